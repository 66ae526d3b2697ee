{{ config(materialized='table') }}

with

user_days as (

    -- Only the days of the windows that count users; the inventory is applied per resource.
    select * from {{ ref('int_sigma__impressions_daily') }}
    where
        impression_date >= {{ sigma_user_metrics_first_day() }}
        and {{ sigma_day_before_window_end('impression_date') }}

),

element_users as (

    -- Per workbook, element (NULL for workbook-level events) and user.
    select
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_resource_user_aggregates() }}
    from user_days
    group by workbook_url_id, element_id, user_email

),

workbook_users as (

    -- A workbook's user: that user's rows of the workbook (any element, or none).
    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        user_email,
        {{ sigma_resource_user_rollup() }}
    from element_users
    group by workbook_url_id, user_email

),

element_resource_users as (

    -- An element's user: the element's rows as they are.
    select
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        user_email,
        impressions_used_window,
        last_impression_used_window_at,
        last_impression_date
    from element_users
    where element_id is not null

),

final as (

    select * from workbook_users
    union all
    select * from element_resource_users

)

select * from final
