{{ config(materialized='table') }}

with

workbook_users as (

    -- The users of each workbook's `used` window.
    select * from {{ ref('int_sigma__resource_users') }}
    where resource_type = 'sigma_workbook' and used_window_impressions > 0

),

used_lists as (

    -- Unsorted: the workbook mart sorts each list (an aggregate that sorts would hold every list
    -- twice in memory).
    select
        workbook_url_id,
        {{ sigma_used_list('user_email', 'used_window_impressions', 'used_window_last_impression_at') }} as used
    from workbook_users
    group by workbook_url_id

)

select * from used_lists
