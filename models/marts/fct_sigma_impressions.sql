{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='impression_id',
        on_schema_change='append_new_columns',
        post_hook=[
            "{% if model.config.materialized == 'incremental' %}delete from {{ this }} where _parse_signature <> '{{ sigma_parse_signature() }}' or not exists (select 1 from {{ ref('stg_sigma__loaded_files') }} as loaded_files where loaded_files.is_loaded and loaded_files.file_uri = {{ this.identifier }}._file_uri and loaded_files.loaded_at = {{ this.identifier }}._loaded_at){% endif %}",
        ],
    )
}}

{%- set recompute_all = is_incremental() and sigma_parse_signature_changed(this) %}

with

file_events as (

    select * from {{ ref('int_sigma__impressions_per_file') }}

),

{% if is_incremental() and not recompute_all %}

watermark as (

    select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) as loaded_since
    from {{ this }}

),

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}
    where is_loaded

),

newly_loaded_keys as (

    select file_events.impression_id
    from file_events
    cross join watermark
    where file_events._loaded_at >= watermark.loaded_since

),

replaced_winner_keys as (

    select current_events.impression_id
    from {{ this }} as current_events
    left join loaded_files
        on
            current_events._file_uri = loaded_files.file_uri
            and current_events._loaded_at = loaded_files.loaded_at
    where loaded_files.file_uri is null

),

affected_keys as (

    select impression_id from newly_loaded_keys
    union
    select impression_id from replaced_winner_keys

),

candidate_events as (

    select file_events.*
    from file_events
    where file_events.impression_id in (select affected_keys.impression_id from affected_keys)

),

{% else %}

candidate_events as (

    select * from file_events

),

{% endif %}

ranked_events as (

    select
        *,
        case
            when element_id is null then 'sigma_workbook'
            else 'sigma_workbook_element'
        end as resource_type,
        row_number() over (
            partition by impression_id
            order by file_last_modified desc, _file_uri desc
        ) as file_rank
    from candidate_events

),

winning_events as (

    select
        impression_id,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        resource_type,
        _file_uri,
        _loaded_at,
        _parse_signature
    from ranked_events
    where file_rank = 1

)

select * from winning_events
