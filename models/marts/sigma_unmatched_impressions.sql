with

unmatched_impressions as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is null and unmatched_reason is not null

),

final as (

    -- Whatever their date: so "no data appears" can be diagnosed.
    select
        workbook_url_id,
        element_id,
        unmatched_reason as reason,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        cast(count(distinct user_email) as {{ dbt.type_bigint() }}) as unique_users,
        min(request_time) as first_seen_at,
        max(request_time) as last_seen_at
    from unmatched_impressions
    group by workbook_url_id, element_id, unmatched_reason

)

select * from final
