{{ config(materialized='table') }}

with

resolved_days as (

    select * from {{ ref('int_sigma__impressions_daily_resolved') }}
    where
        is_known_workbook
        and {{ sigma_day_before_window_end('impression_date') }}

),

element_windows as (

    -- One pass over the rollup per workbook and element (element NULL or unknown included):
    -- every window is a conditional sum; few groups, so the aggregate is cheap.
    select
        workbook_url_id,
        element_id,
        is_known_element,
        {{ sigma_resource_window_aggregates() }}
    from resolved_days
    group by workbook_url_id, element_id, is_known_element

),

resource_windows as (

    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        {{ sigma_resource_window_rollup() }}
    from element_windows
    group by workbook_url_id

    union all

    select
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        {%- for days in sigma_windows() %}
        total_impressions_{{ days }}d,
        {%- endfor %}
        impressions_previous_14d,
        impressions_stale_window,
        last_impression_at
    from element_windows
    where is_known_element

),

element_users as (

    -- Per workbook, element and user, only the days of the windows that count users.
    select
        workbook_url_id,
        element_id,
        is_known_element,
        user_email,
        {{ sigma_resource_user_aggregates() }}
    from resolved_days
    where impression_date >= {{ sigma_user_metrics_first_day() }}
    group by workbook_url_id, element_id, is_known_element, user_email

),

resource_users as (

    -- A workbook's user: that user's rows of the workbook (element known or not).
    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        user_email,
        {{ sigma_resource_user_rollup() }}
    from element_users
    group by workbook_url_id, user_email

    union all

    -- An element's user: the rows of a known element as they are.
    select
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        user_email,
        impressions_used_window,
        last_impression_used_window_at,
        last_impression_date
    from element_users
    where is_known_element

),

user_metrics as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_resource_user_metrics() }}
    from resource_users
    group by resource_type, workbook_url_id, element_id

),

final as (

    -- Every resource with an impression up to as_of_date; zeros where no user counts.
    select
        resource_windows.resource_type,
        resource_windows.workbook_url_id,
        resource_windows.element_id,
        {%- for days in sigma_windows() %}
        resource_windows.total_impressions_{{ days }}d,
        {%- endfor %}
        coalesce(user_metrics.unique_users_14d, 0) as unique_users_14d,
        coalesce(user_metrics.unique_users_30d, 0) as unique_users_30d,
        resource_windows.impressions_previous_14d,
        resource_windows.impressions_stale_window,
        resource_windows.last_impression_at,
        coalesce(user_metrics.used, {{ sigma_empty_used_list() }}) as used
    from resource_windows
    left join user_metrics
        on
            resource_windows.resource_type = user_metrics.resource_type
            and resource_windows.workbook_url_id = user_metrics.workbook_url_id
            and resource_windows.element_id is not distinct from user_metrics.element_id

)

select * from final
