{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='impression_date',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ sigma_incremental_hook('delete from ' ~ this ~ ' where resource_type is null') }}",
            "{{ sigma_delete_stale_rows() }}",
        ],
    )
}}

{#- The marker rows' columns (sigma_marker_rows) in the model's order: the day, then NULLs. -#}
{%- set marker_columns = [
    ('impression_date', none),
    ('resource_type', dbt.type_string()),
    ('workbook_url_id', dbt.type_string()),
    ('element_id', dbt.type_string()),
    ('impressions', dbt.type_bigint()),
    ('unique_users', dbt.type_bigint()),
    ('last_impression_at', dbt.type_timestamp()),
    ('_deduplicated_at', dbt.type_timestamp()),
] %}

with

changed_days as (

    {{ sigma_changed_days(ref('int_sigma__impressions_deduplicated')) }}

),

rollup_rows as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_daily') }}
    {%- if not sigma_incremental_rebuild_all() %}
    where impression_date in (select changed_days.impression_date from changed_days)
    {%- endif %}

),

workbook_users as (

    -- Per day, workbook and user first: a workbook's unique users without a distinct aggregate.
    select
        impression_date,
        workbook_url_id,
        user_email,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        max(last_impression_at) as last_impression_at,
        max(_deduplicated_at) as _deduplicated_at
    from rollup_rows
    group by impression_date, workbook_url_id, user_email

),

workbook_days as (

    select
        impression_date,
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        cast(count(user_email) as {{ dbt.type_bigint() }}) as unique_users,
        max(last_impression_at) as last_impression_at,
        max(_deduplicated_at) as _deduplicated_at
    from workbook_users
    group by impression_date, workbook_url_id

),

element_days as (

    -- The rollup holds one row per day, element and user, so its rows count the users.
    select
        impression_date,
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        cast(count(user_email) as {{ dbt.type_bigint() }}) as unique_users,
        max(last_impression_at) as last_impression_at,
        max(_deduplicated_at) as _deduplicated_at
    from rollup_rows
    where element_id is not null
    group by impression_date, workbook_url_id, element_id

),

day_markers as (

    -- No resource (resource_type NULL): the post-hook drops these once the delete+insert ran.
    {{ sigma_marker_rows('changed_days', marker_columns) }}

),

resource_days as (

    select * from workbook_days
    union all
    select * from element_days
    {%- if sigma_incremental_materialization() == 'incremental' %}
    -- The markers only serve the incremental delete+insert (its post-hook drops them).
    union all
    select * from day_markers
    {%- endif %}

),

final as (

    select
        *,
        '{{ sigma_parse_signature() }}' as _parse_signature
    from resource_days

)

select * from final
