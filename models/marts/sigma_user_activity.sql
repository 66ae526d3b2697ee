with

daily_impressions as (

    select * from {{ ref('int_sigma__impressions_daily') }}
    where {{ sigma_day_before_window_end('impression_date') }}

),

user_activity as (

    select
        user_email,
        {%- for days in sigma_user_activity_windows() %}
        {{ sigma_window_impressions(days) }} as impressions_{{ days }}d,
        {%- endfor %}
        {{ sigma_window_distinct(30, 'workbook_url_id') }} as workbooks_viewed_30d,
        min(first_impression_at) as first_impression_at,
        max(last_impression_at) as last_impression_at
    from daily_impressions
    group by user_email

),

final as (

    select
        *,
        impressions_14d > 0 as is_active_14d,
        {{ sigma_as_of_date_literal() }} as as_of_date
    from user_activity

)

select * from final
