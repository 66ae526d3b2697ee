{{ config(materialized='table') }}

{%- set used_days = var('sigma_used_window_days') | int %}

with

counted_impressions as (

    -- Counted impressions of inventory workbooks in the days of the longest window that looks
    -- at users (unique users over 14 and 30 days, the `used` window).
    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where
        exclusion_reason is null
        and is_known_workbook
        and impression_date >= {{ sigma_window_start([used_days, 30] | max) }}
        and impression_date <= {{ sigma_window_start(1) }}

),

resource_users as (

    -- Per element and user (an element the inventory does not know is dropped where the
    -- inventory is joined), and per workbook and user (all its impressions): the user's
    -- impressions and last impression in the `used` window, and the last day with one.
    select
        case when grouping(element_id) = 1 then 'sigma_workbook' else 'sigma_workbook_element' end as resource_type,
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_sum_bigint("case when impression_date >= " ~ sigma_window_start(used_days) ~ " then impression_count else 0 end") }}
            as used_window_impressions,
        max(case when impression_date >= {{ sigma_window_start(used_days) }} then request_time end)
            as used_window_last_impression_at,
        max(impression_date) as last_impression_date
    from counted_impressions
    group by grouping sets ((workbook_url_id, element_id, user_email), (workbook_url_id, user_email))  -- noqa: PRS

)

select * from resource_users
