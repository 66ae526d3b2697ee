-- The 60-day impressions of sigma_user_activity equal those of every fct event in the window
-- (known workbook or not), and daily impressions over the last 90 days equal the workbooks'.
with

impressions as (

    select * from {{ ref('fct_sigma_impressions') }}

),

fct_total as (

    select coalesce(sum(impression_count), 0) as impressions_60d
    from impressions
    where {{ sigma_in_window('request_time', 60) }}

),

user_total as (

    select coalesce(sum(impressions_60d), 0) as impressions_60d
    from {{ ref('sigma_user_activity') }}

),

daily_total as (

    select coalesce(sum(impressions), 0) as impressions_90d
    from {{ ref('sigma_daily_impressions') }}
    where impression_date >= cast({{ sigma_window_start(90) }} as date)

),

workbook_total as (

    select coalesce(sum(total_impressions_90d), 0) as impressions_90d
    from {{ ref('sigma_workbook_impressions') }}

)

select
    fct_total.impressions_60d as fct_impressions_60d,
    user_total.impressions_60d as user_impressions_60d,
    daily_total.impressions_90d as daily_impressions_90d,
    workbook_total.impressions_90d as workbook_impressions_90d
from fct_total
cross join user_total
cross join daily_total
cross join workbook_total
where
    -- the marts' sums saturate at the BIGINT maximum: compare below it
    (fct_total.impressions_60d <> user_total.impressions_60d and fct_total.impressions_60d < 9223372036854775807)
    or (
        daily_total.impressions_90d <> workbook_total.impressions_90d
        and daily_total.impressions_90d < 9223372036854775807
    )
