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

    -- One row per changed day with no resource (resource_type NULL): the delete+insert on
    -- impression_date then also clears a day whose events all vanished; the post-hook drops it.
    select
        impression_date,
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_string() }}) as workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        cast(null as {{ dbt.type_bigint() }}) as impressions,
        cast(null as {{ dbt.type_bigint() }}) as unique_users,
        cast(null as {{ dbt.type_timestamp() }}) as last_impression_at,
        cast(null as {{ dbt.type_timestamp() }}) as _deduplicated_at
    from changed_days

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
