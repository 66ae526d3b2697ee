{{ config(materialized='table') }}

with

resolved_days as (

    select * from {{ ref('int_sigma__impressions_daily_resolved') }}
    where
        is_known_workbook
        and {{ sigma_day_before_window_end('impression_date') }}

),

element_last_impressions as (

    -- The whole history up to as_of_date, for last_impression_at only: a plain maximum per
    -- workbook and element (element NULL or unknown included), no per-user grouping.
    select
        workbook_url_id,
        element_id,
        is_known_element,
        max(last_impression_at) as last_impression_at
    from resolved_days
    group by workbook_url_id, element_id, is_known_element

),

element_users as (

    -- The windows reach back to sigma_metrics_first_day(): older days are read once above.
    -- One pass over the rollup at (workbook, element, user): every window is a conditional sum.
    select
        workbook_url_id,
        element_id,
        is_known_element,
        user_email,
        {{ sigma_resource_user_aggregates() }}
    from resolved_days
    where impression_date >= {{ sigma_metrics_first_day() }}
    group by workbook_url_id, element_id, is_known_element, user_email

),

resource_users as (

    -- A workbook's user: that user's rows of the workbook (element known or not), summed.
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
        {%- for days in sigma_windows() %}
        total_impressions_{{ days }}d,
        {%- endfor %}
        impressions_previous_14d,
        impressions_stale_window,
        impressions_used_window,
        viewed_14d,
        viewed_30d,
        viewed_used_window,
        last_impression_used_window_at
    from element_users
    where is_known_element

),

window_metrics as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_resource_aggregates() }}
    from resource_users
    group by resource_type, workbook_url_id, element_id

),

resource_last_impressions as (

    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        max(last_impression_at) as last_impression_at
    from element_last_impressions
    group by workbook_url_id

    union all

    select
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        last_impression_at
    from element_last_impressions
    where is_known_element

),

final as (

    -- Every resource with an impression up to as_of_date; zeros outside the windows.
    select
        resource_last_impressions.resource_type,
        resource_last_impressions.workbook_url_id,
        resource_last_impressions.element_id,
        {%- for days in sigma_windows() %}
        coalesce(window_metrics.total_impressions_{{ days }}d, 0) as total_impressions_{{ days }}d,
        {%- endfor %}
        coalesce(window_metrics.unique_users_14d, 0) as unique_users_14d,
        coalesce(window_metrics.unique_users_30d, 0) as unique_users_30d,
        coalesce(window_metrics.impressions_previous_14d, 0) as impressions_previous_14d,
        coalesce(window_metrics.impressions_stale_window, 0) as impressions_stale_window,
        resource_last_impressions.last_impression_at,
        coalesce(window_metrics.used, {{ sigma_empty_used_list() }}) as used
    from resource_last_impressions
    left join window_metrics
        on
            resource_last_impressions.resource_type = window_metrics.resource_type
            and resource_last_impressions.workbook_url_id = window_metrics.workbook_url_id
            and resource_last_impressions.element_id is not distinct from window_metrics.element_id

)

select * from final
