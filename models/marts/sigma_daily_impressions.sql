with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_impressions as (

    select * from {{ ref('int_sigma__impressions_resolved') }}
    where
        is_known_workbook
        and {{ sigma_before_window_end('request_time') }}

),

daily_impressions as (

    select
        impression_date,
        workbook_url_id,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        cast(count(distinct user_email) as {{ dbt.type_bigint() }}) as unique_users
    from workbook_impressions
    group by impression_date, workbook_url_id

),

final as (

    select
        daily_impressions.impression_date,
        daily_impressions.workbook_url_id,
        workbooks.workbook_name,
        daily_impressions.impressions,
        daily_impressions.unique_users
    from daily_impressions
    inner join workbooks
        on daily_impressions.workbook_url_id = workbooks.workbook_url_id

)

select * from final
