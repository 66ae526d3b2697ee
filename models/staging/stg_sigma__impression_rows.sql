{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='_file_uri',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ sigma_delete_stale_rows(source('sigma_raw', 'impression_rows'), uri_column='_file_uri', loaded_at_column='_loaded_at') }}",
        ],
    )
}}

with

source as {{ sigma_inline_cte() }} (

    select * from {{ source('sigma_raw', 'impression_rows') }}

),

new_rows as (

    {{ sigma_rows_of_new_file_versions('source', source('sigma_raw', 'impression_rows')) }}

),

resolved as (

    select
        _file_uri,
        _file_row_number,
        _loaded_at,
        _integration_name,
        {{ sigma_resolve_columns(source('sigma_raw', 'impression_rows')) }}
    from new_rows

),

trimmed as (

    select
        _file_uri,
        _file_row_number,
        _loaded_at,
        _integration_name,
        raw_request_time,
        raw_user_email,
        raw_workbook_url_id,
        raw_element_id,
        raw_count,
        nullif({{ sigma_trim('raw_request_time') }}, '') as request_time_text,
        lower(nullif({{ sigma_trim('raw_user_email') }}, '')) as user_email,
        nullif({{ sigma_trim('raw_workbook_url_id') }}, '') as workbook_url_id,
        nullif({{ sigma_trim('raw_element_id') }}, '') as element_id,
        nullif({{ sigma_trim('raw_count') }}, '') as count_text
    from resolved

),

parsed as (

    select
        *,
        {{ sigma_parse_timestamp('request_time_text') }} as request_time,
        {{ sigma_parse_count('count_text') }} as impression_count
    from trimmed

),

validated as (

    select
        _file_uri,
        _file_row_number,
        _loaded_at,
        _integration_name,
        raw_request_time,
        raw_user_email,
        raw_workbook_url_id,
        raw_element_id,
        raw_count,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        case
            when request_time_text is null then 'missing_request_time'
            when request_time is null then 'invalid_request_time'
            when user_email is null then 'missing_user_email'
            when workbook_url_id is null then 'missing_workbook_url_id'
            when impression_count is null then 'invalid_count'
        end as rejection_reason
    from parsed

)

select
    *,
    rejection_reason is null as is_valid,
    '{{ sigma_parse_signature() }}' as _parse_signature
from validated
