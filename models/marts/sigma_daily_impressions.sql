with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_days as (

    select * from {{ ref('int_sigma__impressions_daily_resolved') }}
    where
        is_known_workbook
        and {{ sigma_day_before_window_end('impression_date') }}

),

-- Per user first, then per workbook and day: no distinct aggregate (DuckDB cannot spill one
-- under memory_limit).
user_days as (

    select
        impression_date,
        workbook_url_id,
        user_email,
        {{ sigma_sum_bigint('impressions') }} as impressions
    from workbook_days
    group by impression_date, workbook_url_id, user_email

),

daily_impressions as (

    select
        impression_date,
        workbook_url_id,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        cast(count(user_email) as {{ dbt.type_bigint() }}) as unique_users
    from user_days
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
