with

counted_impressions as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is null and impression_date <= {{ sigma_window_start(1) }}

),

user_activity as (

    select
        user_email,
        {%- for days in sigma_windows('sigma_user_activity_windows') %}
        {{ sigma_sum_bigint("case when impression_date >= " ~ sigma_window_start(days) ~ " then impression_count else 0 end") }}
            as impressions_{{ days }}d,
        {%- endfor %}
        cast(
            count(distinct case when impression_date >= {{ sigma_window_start(30) }} then workbook_url_id end)
            as {{ dbt.type_bigint() }}
        ) as workbooks_viewed_30d,
        min(request_time) as first_impression_at,
        max(request_time) as last_impression_at
    from counted_impressions
    group by user_email

),

final as (

    select
        *,
        impressions_14d > 0 as is_active_14d,
        {{ sigma_window_start(1) }} as as_of_date
    from user_activity

)

select * from final
