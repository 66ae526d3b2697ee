{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='impression_date',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ sigma_incremental_hook('delete from ' ~ this ~ ' where user_email is null') }}",
            "{{ sigma_delete_stale_rows() }}",
        ],
    )
}}

{%- set rebuild_all = sigma_incremental_rebuild_all() %}

with

events as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}

),

{% if not rebuild_all %}

watermark as (

    select coalesce(max(_deduplicated_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) as deduplicated_since
    from {{ this }}

),

recomputed_days as (

    select distinct events.impression_date
    from events
    cross join watermark
    where events._deduplicated_at > watermark.deduplicated_since

),

orphaned_days as (

    -- Days here with no event row at all (the event table was rebuilt on its own since).
    select distinct rollup_days.impression_date
    from {{ this }} as rollup_days
    where rollup_days.impression_date not in (select distinct events.impression_date from events)

),

changed_days as (

    select impression_date from recomputed_days
    union
    select impression_date from orphaned_days

),

day_events as (

    select events.*
    from events
    where
        not events.is_removed
        and events.impression_date in (select changed_days.impression_date from changed_days)

),

{% else %}

changed_days as (

    select distinct impression_date
    from events

),

day_events as (

    select * from events
    where not is_removed

),

{% endif %}

daily_impressions as (

    select
        impression_date,
        workbook_url_id,
        element_id,
        user_email,
        resource_type,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        min(request_time) as first_impression_at,
        max(request_time) as last_impression_at,
        max(_deduplicated_at) as _deduplicated_at
    from day_events
    group by impression_date, workbook_url_id, element_id, user_email, resource_type

),

day_markers as (

    -- One row per changed day with no group (user_email NULL): the delete+insert on
    -- impression_date then also clears a day whose events all vanished; the post-hook drops it.
    select
        impression_date,
        cast(null as {{ dbt.type_string() }}) as workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        cast(null as {{ dbt.type_string() }}) as user_email,
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_bigint() }}) as impressions,
        cast(null as {{ dbt.type_timestamp() }}) as first_impression_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_impression_at,
        cast(null as {{ dbt.type_timestamp() }}) as _deduplicated_at
    from changed_days

),

final as (

    select
        *,
        '{{ sigma_parse_signature() }}' as _parse_signature
    from daily_impressions
    {%- if sigma_incremental_materialization() == 'incremental' %}
    -- The markers only serve the incremental delete+insert (its post-hook drops them); a table
    -- built in full (Spark's Parquet) has no rows to clear and no hook to drop them.
    union all
    select
        *,
        '{{ sigma_parse_signature() }}' as _parse_signature
    from day_markers
    {%- endif %}

)

select * from final
