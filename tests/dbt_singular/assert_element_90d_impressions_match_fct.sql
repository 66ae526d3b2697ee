-- The 90-day impressions of inventory elements (of inventory workbooks) in the daily rollup
-- equal the sum of sigma_element_impressions.total_impressions_90d (the rollup is tied to fct's
-- events by assert_rollup_matches_fct).
with

daily_impressions as (

    select * from {{ ref('int_sigma__impressions_daily') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

rollup_total as (

    select {{ sigma_sum_bigint('daily_impressions.impressions') }} as impressions_90d
    from daily_impressions
    inner join workbooks
        on daily_impressions.workbook_url_id = workbooks.workbook_url_id
    inner join workbook_elements
        on
            daily_impressions.workbook_url_id = workbook_elements.workbook_url_id
            and daily_impressions.element_id = workbook_elements.element_id
    where {{ sigma_day_in_window('daily_impressions.impression_date', 90) }}

),

mart_total as (

    select {{ sigma_sum_bigint('total_impressions_90d') }} as impressions_90d
    from {{ ref('sigma_element_impressions') }}

)

select
    rollup_total.impressions_90d as rollup_impressions_90d,
    mart_total.impressions_90d as mart_impressions_90d
from rollup_total
cross join mart_total
where rollup_total.impressions_90d <> mart_total.impressions_90d
