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

{#- The marker rows' columns (sigma_marker_rows) in the model's order: the day, then NULLs. -#}
{%- set marker_columns = [
    ('impression_date', none),
    ('workbook_url_id', dbt.type_string()),
    ('element_id', dbt.type_string()),
    ('user_email', dbt.type_string()),
    ('resource_type', dbt.type_string()),
    ('impressions', dbt.type_bigint()),
    ('first_impression_at', dbt.type_timestamp()),
    ('last_impression_at', dbt.type_timestamp()),
    ('_deduplicated_at', dbt.type_timestamp()),
] %}

with

events as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}

),

changed_days as (

    {{ sigma_changed_days(ref('int_sigma__impressions_deduplicated')) }}

),

day_events as (

    select events.*
    from events
    where
        not events.is_removed
        -- Every day when rebuilding: no filter to apply.
        and {{ "true" if sigma_incremental_rebuild_all() else "events.impression_date in (select impression_date from changed_days)" }}

),

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

    -- No group (user_email NULL): the post-hook drops these once the delete+insert ran.
    {{ sigma_marker_rows('changed_days', marker_columns) }}

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
