with

daily_impressions as (

    select * from {{ ref('int_sigma__impressions_daily') }}
    where {{ sigma_day_before_window_end('impression_date') }}

),

history as (

    select min(first_impression_at) as history_start_at
    from daily_impressions

)

select * from history
