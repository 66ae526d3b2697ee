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

{#- What this run recomputes, read from this table before the query is planned and written into
    it as literals (a handful of values): the latest landed time of a winning row (keys of files
    landed since are new), and the winning file versions that are no longer the landed ones
    (their keys are re-decided; usually none, and then that part of the query is left out).
    With literals the engine sees how few keys there are and reads only the file rows with
    those keys; with subqueries it could not know, and built its join over every file row. -#}
{%- set recompute = sigma_dedup_recompute(this, ref('stg_sigma__loaded_files')) %}

newly_loaded_keys as (

    select file_events.impression_id
    from file_events
    where file_events._loaded_at >= {{ recompute.loaded_since }}

),

{%- if recompute.stale_versions %}

current_events as {{ sigma_inline_cte() }} (

    select * from {{ this }}
    where not is_removed

),

stale_winner_versions as (

    {{ sigma_values_relation(recompute.stale_versions, [("_file_uri", dbt.type_string()), ("_loaded_at", dbt.type_timestamp())]) }}

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

{%- else %}

affected_keys as (

    select distinct impression_id from newly_loaded_keys

),

{%- endif %}

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

{% if not rebuild_all and recompute.stale_versions %}

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
