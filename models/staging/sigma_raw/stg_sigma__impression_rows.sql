{#- Each landed record is parsed once: on DuckDB this table is incremental by export file (a run
    parses the rows landed since its newest row and replaces those files' earlier rows); Spark's
    plain Parquet tables cannot delete rows, so there it is rebuilt whole. -#}
{{
    config(
        materialized='table' if target.type == 'spark' else 'incremental',
        incremental_strategy='delete+insert',
        unique_key='_file_uri',
        on_schema_change='append_new_columns',
    )
}}

{%- set column_aliases = local_md5(tojson(var('sigma_column_aliases'), sort_keys=true)) %}

with

source as (

    select * from {{ source('sigma_raw', 'impression_rows') }}
    {%- if is_incremental() %}
    -- Rows landed after the newest row here that was parsed with today's alias list (its hash):
    -- the new files, the new version of a changed file, or every row once the list changed.
    where _loaded_at > (
        select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
        where _column_aliases = {{ sigma_string_literal(column_aliases) }}
    )
    {%- endif %}

),

resolved as (

    select
        _file_uri,
        _file_row_number,
        _loaded_at,
        _integration_name,
        {{ sigma_resolve_columns(source('sigma_raw', 'impression_rows')) }}
    from source

),

trimmed as (

    select
        *,
        nullif({{ sigma_trim('raw_request_time') }}, '') as request_time_text,
        lower(nullif({{ sigma_trim('raw_user_email') }}, '')) as user_email,
        nullif({{ sigma_trim('raw_workbook_url_id') }}, '') as workbook_url_id,
        nullif({{ sigma_trim('raw_element_id') }}, '') as element_id,
        nullif({{ sigma_trim('raw_count') }}, '') as count_text,
        nullif({{ sigma_trim('raw_event_name') }}, '') as event_name,
        nullif({{ sigma_trim('raw_event_status') }}, '') as event_status
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
        *,
        -- What would keep the row from counting if it is a view event (the event rule is
        -- applied downstream, in int_sigma__export_rows).
        case
            when request_time_text is null then 'missing_request_time'
            when request_time is null then 'invalid_request_time'
            when user_email is null then 'missing_user_email'
            when workbook_url_id is null then 'missing_workbook_url_id'
            when impression_count is null then 'invalid_count'
        end as rejection_reason
    from parsed

),

final as (

    select
        _file_uri,
        _file_row_number,
        _loaded_at,
        _integration_name,
        event_name,
        event_status,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        rejection_reason,
        -- The values as written, kept for the rows that fail validation (the rejected rows'
        -- mart shows them): a valid row's parsed values say it all.
        case when rejection_reason is not null then raw_request_time end as raw_request_time,
        case when rejection_reason is not null then raw_user_email end as raw_user_email,
        case when rejection_reason is not null then raw_workbook_url_id end as raw_workbook_url_id,
        case when rejection_reason is not null then raw_element_id end as raw_element_id,
        case when rejection_reason is not null then raw_count end as raw_count,
        {{ sigma_string_literal(column_aliases) }} as _column_aliases
    from validated

)

select * from final
