{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='_file_uri',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ sigma_delete_stale_rows(ref('stg_sigma__loaded_files'), versions_filter='file_versions.is_loaded') }}",
        ],
    )
}}

with

impression_rows as {{ sigma_inline_cte() }} (

    select * from {{ ref('stg_sigma__impression_rows') }}

),

new_rows as (

    {{ sigma_rows_of_new_file_versions('impression_rows', ref('stg_sigma__impression_rows')) }}

),

valid_rows as (

    select * from new_rows
    where is_valid

),

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}
    where is_loaded

),

keyed_rows as (

    select
        {{ sigma_impression_id('request_time', 'user_email', 'workbook_url_id', 'element_id') }} as impression_id,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        _file_uri,
        _loaded_at,
        _parse_signature
    from valid_rows

),

file_events as (

    select
        keyed_rows.impression_id,
        keyed_rows.request_time,
        keyed_rows.user_email,
        keyed_rows.workbook_url_id,
        keyed_rows.element_id,
        keyed_rows._file_uri,
        keyed_rows._loaded_at,
        loaded_files.last_modified as file_last_modified,
        keyed_rows._parse_signature,
        {{ sigma_sum_bigint('keyed_rows.impression_count') }} as impression_count
    from keyed_rows
    inner join loaded_files
        on
            keyed_rows._file_uri = loaded_files.file_uri
            and keyed_rows._loaded_at = loaded_files.loaded_at
    group by
        keyed_rows.impression_id,
        keyed_rows.request_time,
        keyed_rows.user_email,
        keyed_rows.workbook_url_id,
        keyed_rows.element_id,
        keyed_rows._file_uri,
        keyed_rows._loaded_at,
        loaded_files.last_modified,
        keyed_rows._parse_signature

)

select * from file_events
