-- The workbook mart's windows at as_of_date, every inventory workbook (a never opened one: zeros).
with

actual as (

    select
        workbook_url_id,
        workbook_name,
        owner_email,
        total_impressions_7d,
        total_impressions_30d,
        unique_users_30d
    from {{ ref('sigma_workbook_impressions') }}

),

expected as (

    select
        workbook_url_id,
        workbook_name,
        owner_email,
        total_impressions_7d,
        total_impressions_30d,
        unique_users_30d
    from {{ ref('expected_workbook_impressions') }}

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
