-- The element mart: element events count for their element, with the inventory's type and page.
with

actual as (

    select
        workbook_url_id,
        element_id,
        element_type,
        page_name,
        total_impressions_7d
    from {{ ref('sigma_element_impressions') }}

),

expected as (

    select
        workbook_url_id,
        element_id,
        element_type,
        page_name,
        total_impressions_7d
    from {{ ref('expected_element_impressions') }}

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
