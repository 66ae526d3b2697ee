with

unmatched_days as (

    select * from {{ ref('int_sigma__impressions_daily_resolved') }}
    where unmatched_reason is not null

),

final as (

    select
        workbook_url_id,
        element_id,
        unmatched_reason as reason,
        {{ sigma_sum_bigint('impressions') }} as impressions,
        cast(count(distinct user_email) as {{ dbt.type_bigint() }}) as unique_users,
        min(first_impression_at) as first_seen_at,
        max(last_impression_at) as last_seen_at
    from unmatched_days
    group by workbook_url_id, element_id, unmatched_reason

)

select * from final
