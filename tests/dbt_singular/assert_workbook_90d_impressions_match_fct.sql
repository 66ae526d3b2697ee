-- The 90-day impressions of fct events on inventory workbooks equal the sum of
-- sigma_workbook_impressions.total_impressions_90d. Returns a row when they differ.
with

impressions as (

    select * from {{ ref('fct_sigma_impressions') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

fct_total as (

    select coalesce(sum(impressions.impression_count), 0) as impressions_90d
    from impressions
    inner join workbooks
        on impressions.workbook_url_id = workbooks.workbook_url_id
    where {{ sigma_in_window('impressions.request_time', 90) }}

),

mart_total as (

    select coalesce(sum(total_impressions_90d), 0) as impressions_90d
    from {{ ref('sigma_workbook_impressions') }}

)

select
    fct_total.impressions_90d as fct_impressions_90d,
    mart_total.impressions_90d as mart_impressions_90d
from fct_total
cross join mart_total
where
    fct_total.impressions_90d <> mart_total.impressions_90d
    -- the marts' sums saturate at the BIGINT maximum
    and fct_total.impressions_90d < 9223372036854775807
