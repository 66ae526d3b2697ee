with

impressions as (

    select * from {{ ref('fct_sigma_impressions') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

resolved as (

    select
        impressions.impression_id,
        impressions.request_time,
        cast(impressions.request_time as date) as impression_date,
        impressions.user_email,
        impressions.workbook_url_id,
        impressions.element_id,
        impressions.impression_count,
        impressions.resource_type,
        workbooks.workbook_url_id is not null as is_known_workbook,
        workbooks.workbook_url_id is not null and workbook_elements.element_id is not null as is_known_element,
        case
            when workbooks.workbook_url_id is null then 'unknown_workbook'
            when impressions.element_id is not null and workbook_elements.element_id is null then 'unknown_element'
        end as unmatched_reason
    from impressions
    left join workbooks
        on impressions.workbook_url_id = workbooks.workbook_url_id
    left join workbook_elements
        on
            impressions.workbook_url_id = workbook_elements.workbook_url_id
            and impressions.element_id = workbook_elements.element_id

)

select * from resolved
