with

excluded_impressions as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is not null

),

final as (

    -- All loaded history, and the marts' 30-day window.
    select
        user_email,
        workbook_url_id,
        exclusion_reason as reason,
        {{ sigma_sum_bigint('impression_count') }} as impressions_total,
        {{ sigma_sum_bigint(
            "case when impression_date >= " ~ sigma_window_start(30) ~ " and impression_date <= "
            ~ sigma_window_start(1) ~ " then impression_count else 0 end"
        ) }} as impressions_30d
    from excluded_impressions
    group by user_email, workbook_url_id, exclusion_reason

)

select * from final
