{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='impression_id',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ sigma_delete_stale_rows(ref('stg_sigma__loaded_files'), versions_filter='file_versions.is_loaded', rows_filter='not is_removed') }}",
        ],
    )
}}

{%- set rebuild_all = sigma_incremental_rebuild_all() %}

with

file_events as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_per_file') }}

),

{% if not rebuild_all %}

current_events as {{ sigma_inline_cte() }} (

    select * from {{ this }}
    where not is_removed

),

watermark as (

    select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) as loaded_since
    from current_events

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

stale_winner_versions as (

    -- The file versions winning an event here that are no longer the landed ones: the versions
    -- first (a few per file), so a run where none changed reads no event for this.
    select
        winner_versions._file_uri,
        winner_versions._loaded_at
    from (
        select distinct
            _file_uri,
            _loaded_at
        from current_events
    ) as winner_versions
    left join loaded_files
        on
            winner_versions._file_uri = loaded_files.file_uri
            and winner_versions._loaded_at = loaded_files.loaded_at
    where loaded_files.file_uri is null

),

replaced_winner_keys as (

    select current_events.impression_id
    from current_events
    inner join stale_winner_versions
        on
            current_events._file_uri = stale_winner_versions._file_uri
            and current_events._loaded_at = stale_winner_versions._loaded_at

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
        cast(request_time as date) as impression_date,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        case
            when element_id is null then 'sigma_workbook'
            else 'sigma_workbook_element'
        end as resource_type,
        _file_uri,
        _loaded_at,
        _parse_signature,
        {{ sigma_run_started_at() }} as _deduplicated_at,
        false as is_removed
    from ranked_events
    where file_rank = 1

),

{% if not rebuild_all %}

removed_events as (

    select
        current_events.impression_id,
        current_events.request_time,
        current_events.impression_date,
        current_events.user_email,
        current_events.workbook_url_id,
        current_events.element_id,
        cast(null as {{ dbt.type_bigint() }}) as impression_count,
        current_events.resource_type,
        cast(null as {{ dbt.type_string() }}) as _file_uri,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        '{{ sigma_parse_signature() }}' as _parse_signature,
        {{ sigma_run_started_at() }} as _deduplicated_at,
        true as is_removed
    from current_events
    inner join replaced_winner_keys
        on current_events.impression_id = replaced_winner_keys.impression_id
    left join winning_events
        on current_events.impression_id = winning_events.impression_id
    where winning_events.impression_id is null

),

final as (

    select * from winning_events
    union all
    select * from removed_events

)

{% else %}

final as (

    select * from winning_events

)

{% endif %}

select * from final
