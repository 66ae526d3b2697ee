with

resolved_impressions as (

    select * from {{ ref('int_sigma__impressions_resolved') }}
    where {{ sigma_before_window_end('request_time') }}

),

user_activity as (

    select
        user_email,
        {%- for days in [7, 14, 30, 60] %}
        {{ sigma_window_impressions(days) }} as impressions_{{ days }}d,
        {%- endfor %}
        cast(
            count(distinct case when {{ sigma_in_window('request_time', 30) }} then workbook_url_id end)
            as {{ dbt.type_bigint() }}
        ) as workbooks_viewed_30d,
        min(request_time) as first_impression_at,
        max(request_time) as last_impression_at
    from resolved_impressions
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
