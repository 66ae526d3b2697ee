with

impression_rows as (

    select * from {{ ref('stg_sigma__impression_rows') }}

),

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}
    where is_loaded

),

current_rows as (

    -- The rows of each file's landed version (a replaced version's rows are not counted).
    select
        impression_rows.*,
        loaded_files.file_recency,
        loaded_files.has_event_name_column,
        loaded_files.has_event_status_column
    from impression_rows
    inner join loaded_files
        on
            impression_rows._file_uri = loaded_files.file_uri
            and impression_rows._loaded_at = loaded_files.loaded_at

),

classified as (

    -- The event rule: where the file has an event name column, only names matching
    -- vars.sigma_view_event_pattern count (an empty name never does); where it has an event
    -- status column, only empty statuses or those matching vars.sigma_success_status_pattern.
    select
        *,
        (
            not has_event_name_column
            or coalesce({{ sigma_regexp_matches('event_name', sigma_event_pattern('sigma_view_event_pattern')) }}, false)
        )
        and (
            not has_event_status_column
            or event_status is null
            or {{ sigma_regexp_matches('event_status', sigma_event_pattern('sigma_success_status_pattern'), full=true) }}
        ) as is_view_event
    from current_rows

),

final as (

    -- Rows of other events are not impressions: never validated, rejected or deduplicated.
    select
        _file_uri,
        _file_row_number,
        _loaded_at,
        file_recency,
        raw_request_time,
        raw_user_email,
        raw_workbook_url_id,
        raw_element_id,
        raw_count,
        has_event_name_column,
        has_event_status_column,
        event_name,
        event_status,
        is_view_event,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        case when is_view_event then rejection_reason end as rejection_reason,
        is_view_event and rejection_reason is null as is_impression
    from classified

)

select * from final
