{{ config(materialized='table') }}

with

resolved_days as (

    select * from {{ ref('int_sigma__impressions_daily_resolved') }}
    where {{ sigma_day_before_window_end('impression_date') }}

),

resource_days as (

    -- Every rollup row counts for its workbook (known workbook, element known or not) and,
    -- when the element is known, for its element.
    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        impression_date,
        user_email,
        impressions,
        last_impression_at
    from resolved_days
    where is_known_workbook

    union all

    select
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        impression_date,
        user_email,
        impressions,
        last_impression_at
    from resolved_days
    where is_known_element

),

resource_metrics as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_resource_aggregates() }}
    from resource_days
    group by resource_type, workbook_url_id, element_id

),

resource_user_impressions as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        max(last_impression_at) as last_impression_at
    from resource_days
    where {{ sigma_day_in_window('impression_date', sigma_used_window_days()) }}
    group by resource_type, workbook_url_id, element_id, user_email

),

resource_users as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_used_list('user_email', 'impressions', 'last_impression_at') }} as used
    from resource_user_impressions
    group by resource_type, workbook_url_id, element_id

),

final as (

    select
        resource_metrics.*,
        coalesce(resource_users.used, {{ sigma_empty_used_list() }}) as used
    from resource_metrics
    left join resource_users
        on
            resource_metrics.resource_type = resource_users.resource_type
            and resource_metrics.workbook_url_id = resource_users.workbook_url_id
            and resource_metrics.element_id is not distinct from resource_users.element_id

)

select * from final
