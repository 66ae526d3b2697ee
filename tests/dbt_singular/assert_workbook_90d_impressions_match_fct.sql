-- The 90-day impressions of inventory workbooks in the daily rollup (which
-- assert_rollup_matches_fct ties to fct's events) equal the sum of
-- sigma_workbook_impressions.total_impressions_90d. Reads the rollup, so its cost does not grow
-- with the number of events. Returns a row when they differ.
with

daily_impressions as (

    select * from {{ ref('int_sigma__impressions_daily') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

rollup_total as (

    select {{ sigma_sum_bigint('daily_impressions.impressions') }} as impressions_90d
    from daily_impressions
    inner join workbooks
        on daily_impressions.workbook_url_id = workbooks.workbook_url_id
    where {{ sigma_day_in_window('daily_impressions.impression_date', 90) }}

),

mart_total as (

    select {{ sigma_sum_bigint('total_impressions_90d') }} as impressions_90d
    from {{ ref('sigma_workbook_impressions') }}

)

select
    rollup_total.impressions_90d as rollup_impressions_90d,
    mart_total.impressions_90d as mart_impressions_90d
from rollup_total
cross join mart_total
where rollup_total.impressions_90d <> mart_total.impressions_90d
