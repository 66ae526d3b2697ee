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

resolved as (

    select
        daily_impressions.impression_date,
        daily_impressions.workbook_url_id,
        daily_impressions.element_id,
        daily_impressions.user_email,
        daily_impressions.resource_type,
        daily_impressions.impressions,
        daily_impressions.first_impression_at,
        daily_impressions.last_impression_at,
        workbooks.workbook_url_id is not null as is_known_workbook,
        workbooks.workbook_url_id is not null and workbook_elements.element_id is not null as is_known_element,
        case
            when workbooks.workbook_url_id is null then 'unknown_workbook'
            when daily_impressions.element_id is not null and workbook_elements.element_id is null then 'unknown_element'
        end as unmatched_reason
    from daily_impressions
    left join workbooks
        on daily_impressions.workbook_url_id = workbooks.workbook_url_id
    left join workbook_elements
        on
            daily_impressions.workbook_url_id = workbook_elements.workbook_url_id
            and daily_impressions.element_id = workbook_elements.element_id

)

select * from resolved
