with

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}
    where is_loaded

),

export_rows as (

    select * from {{ ref('int_sigma__export_rows') }}

),

file_events as (

    -- Names and statuses as they appear (trimmed): empty where the file has the column and the
    -- row no value, NULL where the file has no such column.
    select
        _file_uri,
        case when has_event_name_column then coalesce(event_name, '') end as event_name,
        case when has_event_status_column then coalesce(event_status, '') end as event_status,
        is_view_event,
        cast(count(*) as {{ dbt.type_bigint() }}) as row_count
    from export_rows
    group by
        _file_uri,
        case when has_event_name_column then coalesce(event_name, '') end,
        case when has_event_status_column then coalesce(event_status, '') end,
        is_view_event

),

final as (

    -- A file without data rows has one row: no name or status, 0 rows, counted by the rule.
    select
        loaded_files.file_uri,
        file_events.event_name,
        file_events.event_status,
        coalesce(file_events.row_count, 0) as row_count,
        coalesce(file_events.is_view_event, not loaded_files.has_event_name_column) as is_view_event
    from loaded_files
    left join file_events
        on loaded_files.file_uri = file_events._file_uri

)

select * from final
