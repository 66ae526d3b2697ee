with

counted_impressions as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is null and is_known_workbook and impression_date <= {{ sigma_window_start(1) }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_user_days as (

    -- Per day, workbook and user first: the users are then counted without a distinct aggregate.
    -- Element impressions count for their workbook.
    select
        impression_date,
        workbook_url_id,
        user_email,
        {{ sigma_sum_bigint('impression_count') }} as impressions
    from counted_impressions
    group by impression_date, workbook_url_id, user_email

),

workbook_days as (

    select
        impression_date,
        workbook_url_id,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        cast(count(*) as {{ dbt.type_bigint() }}) as unique_users
    from workbook_user_days
    group by impression_date, workbook_url_id

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
