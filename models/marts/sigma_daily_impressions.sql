with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_days as (

    select * from {{ ref('int_sigma__resource_days') }}
    where
        resource_type = 'sigma_workbook'
        and {{ sigma_day_before_window_end('impression_date') }}

),

final as (

    select
        workbook_days.impression_date,
        workbook_days.workbook_url_id,
        workbooks.workbook_name,
        workbook_days.impressions,
        workbook_days.unique_users
    from workbook_days
    inner join workbooks
        on workbook_days.workbook_url_id = workbooks.workbook_url_id

)

select * from final
