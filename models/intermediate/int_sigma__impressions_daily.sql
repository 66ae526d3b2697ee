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
