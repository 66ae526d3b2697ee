-- sigma_daily_impressions holds exactly the expected rows: the later file's corrected count
-- wins, the rejected row and the unknown workbook count nowhere.
with

actual as (

    select
        impression_date,
        workbook_url_id,
        workbook_name,
        impressions,
        unique_users
    from {{ ref('sigma_daily_impressions') }}

),

expected as (

    select
        impression_date,
        workbook_url_id,
        workbook_name,
        impressions,
        unique_users
    from {{ ref('expected_daily_impressions') }}

),

missing as (

    select 'missing' as problem, * from (select * from expected except select * from actual) as rows_missing

),

unexpected as (

    select 'unexpected' as problem, * from (select * from actual except select * from expected) as rows_unexpected

)

select * from missing
union all
select * from unexpected
