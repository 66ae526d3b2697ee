-- The 60-day impressions of sigma_user_activity equal those of the daily rollup in the window
-- (known workbook or not), and daily impressions over the last 90 days equal the workbooks'.
-- The rollup is tied to fct's events by assert_rollup_matches_fct.
with

daily_impressions as (

    select * from {{ ref('int_sigma__impressions_daily') }}

),

rollup_total as (

    select {{ sigma_sum_bigint('impressions') }} as impressions_60d
    from daily_impressions
    where {{ sigma_day_in_window('impression_date', 60) }}

),

user_total as (

    select {{ sigma_sum_bigint('impressions_60d') }} as impressions_60d
    from {{ ref('sigma_user_activity') }}

),

daily_total as (

    select {{ sigma_sum_bigint('impressions') }} as impressions_90d
    from {{ ref('sigma_daily_impressions') }}
    where {{ sigma_day_in_window('impression_date', 90) }}

),

workbook_total as (

    select {{ sigma_sum_bigint('total_impressions_90d') }} as impressions_90d
    from {{ ref('sigma_workbook_impressions') }}

)

select
    rollup_total.impressions_60d as rollup_impressions_60d,
    user_total.impressions_60d as user_impressions_60d,
    daily_total.impressions_90d as daily_impressions_90d,
    workbook_total.impressions_90d as workbook_impressions_90d
from rollup_total
cross join user_total
cross join daily_total
cross join workbook_total
where
    rollup_total.impressions_60d <> user_total.impressions_60d
    or daily_total.impressions_90d <> workbook_total.impressions_90d
