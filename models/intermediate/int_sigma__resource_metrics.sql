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

resource_users as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_resource_user_aggregates() }}
    from resource_days
    group by resource_type, workbook_url_id, element_id, user_email

),

resource_metrics as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_resource_aggregates() }}
    from resource_users
    group by resource_type, workbook_url_id, element_id

),

used_lists as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_used_list('user_email', 'impressions_used_window', 'last_impression_used_window_at') }} as used
    from resource_users
    where viewed_used_window = 1
    group by resource_type, workbook_url_id, element_id

),

final as (

    select
        resource_metrics.*,
        coalesce(used_lists.used, {{ sigma_empty_used_list() }}) as used
    from resource_metrics
    left join used_lists
        on
            resource_metrics.resource_type = used_lists.resource_type
            and resource_metrics.workbook_url_id = used_lists.workbook_url_id
            and resource_metrics.element_id is not distinct from used_lists.element_id

)

select * from final
