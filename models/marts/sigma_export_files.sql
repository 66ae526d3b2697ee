with

export_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}

),

export_rows as (

    select * from {{ ref('int_sigma__export_rows') }}

),

file_rows as (

    select
        _file_uri,
        cast(sum(case when is_view_event then 1 else 0 end) as {{ dbt.type_bigint() }}) as view_event_rows,
        cast(sum(case when rejection_reason is not null then 1 else 0 end) as {{ dbt.type_bigint() }}) as rejected_rows
    from export_rows
    group by _file_uri

),

checked as (

    select
        export_files.*,
        coalesce(file_rows.view_event_rows, 0) as view_event_rows,
        coalesce(file_rows.rejected_rows, 0) as rejected_rows,
        -- The required columns no header of the file feeds (every row is then rejected).
        nullif(concat_ws(
            ', ',
            case when not export_files.has_request_time_column then 'request_time' end,
            case when not export_files.has_user_email_column then 'user_email' end,
            case when not export_files.has_workbook_url_id_column then 'workbook_url_id' end
        ), '') as missing_columns
    from export_files
    left join file_rows
        on export_files.file_uri = file_rows._file_uri

),

final as (

    select
        file_uri,
        status,
        last_modified,
        loaded_at,
        rows_loaded,
        rows_rejected as malformed_lines,
        error,
        has_element_id_column,
        has_event_name_column,
        has_event_status_column,
        view_event_rows,
        rejected_rows,
        missing_columns,
        -- What keeps the file's rows from counting, the first that applies.
        case
            when not is_loaded then {{ dbt.concat(["'cannot be read: '", "coalesce(error, 'unknown error')"]) }}
            when rows_loaded = 0 then null
            when missing_columns is not null
                then {{ dbt.concat(["'no column for '", "missing_columns", "' (every row is rejected)'"]) }}
            when view_event_rows = 0 then 'no view events (vars.sigma_view_event_pattern, sigma_success_status_pattern)'
            when not has_element_id_column then 'no element_id column: workbook-level impressions only'
        end as problem,
        -- The problems that keep rows from counting at all (failed, a required column, no view events).
        not is_loaded or (rows_loaded > 0 and (missing_columns is not null or view_event_rows = 0)) as is_blocking
    from checked

)

select * from final
