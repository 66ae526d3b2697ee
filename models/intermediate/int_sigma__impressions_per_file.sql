{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='_file_uri',
        on_schema_change='append_new_columns',
        post_hook=[
            "{% if model.config.materialized == 'incremental' %}delete from {{ this }} where not exists (select 1 from {{ ref('stg_sigma__loaded_files') }} as loaded_files where loaded_files.is_loaded and loaded_files.file_uri = {{ this.identifier }}._file_uri and loaded_files.loaded_at = {{ this.identifier }}._loaded_at){% endif %}",
        ],
    )
}}

{%- set regroup_all = is_incremental() and sigma_parse_signature_changed(this) %}

with

impression_rows as (

    select * from {{ ref('stg_sigma__impression_rows') }}

),

{% if is_incremental() and not regroup_all %}

grouped_files as (

    select distinct
        _file_uri,
        _loaded_at
    from {{ this }}

),

valid_rows as (

    select impression_rows.*
    from impression_rows
    left join grouped_files
        on
            impression_rows._file_uri = grouped_files._file_uri
            and impression_rows._loaded_at = grouped_files._loaded_at
    where impression_rows.is_valid and grouped_files._file_uri is null

),

{% else %}

valid_rows as (

    select * from impression_rows
    where is_valid

),

{% endif %}

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
