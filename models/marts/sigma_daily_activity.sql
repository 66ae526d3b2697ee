with

counted_impressions as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is null and impression_date <= {{ sigma_window_start(1) }}

),

final as (

    -- Every counted impression, known workbook or not.
    select
        impression_date,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        cast(count(distinct user_email) as {{ dbt.type_bigint() }}) as active_users,
        cast(count(distinct workbook_url_id) as {{ dbt.type_bigint() }}) as workbooks_viewed
    from counted_impressions
    group by impression_date

)

select * from final
