-- The daily rollup holds exactly fct's events summed per UTC day, workbook, element and user
-- (impressions, first and last time), compared both ways. Checks the days recomputed in the
-- last vars.sigma_data_test_days days (every day when it is null), so each day is checked
-- whenever it changes and the daily cost follows the new data.
with

checked_days as (

    {{ sigma_recent_days() }}
    union
    select distinct impression_date
    from {{ ref('int_sigma__impressions_daily') }}
    where {{ sigma_recent_predicate('_deduplicated_at') }}

),

events as (

    select
        *,
        cast(request_time as date) as impression_date
    from {{ ref('fct_sigma_impressions') }}

),

expected as (

    select
        events.impression_date,
        events.workbook_url_id,
        events.element_id,
        events.user_email,
        {{ sigma_sum_bigint('events.impression_count') }} as impressions,
        min(events.request_time) as first_impression_at,
        max(events.request_time) as last_impression_at
    from events
    inner join checked_days
        on events.impression_date = checked_days.impression_date
    group by events.impression_date, events.workbook_url_id, events.element_id, events.user_email

),

actual as (

    select
        daily_impressions.impression_date,
        daily_impressions.workbook_url_id,
        daily_impressions.element_id,
        daily_impressions.user_email,
        daily_impressions.impressions,
        daily_impressions.first_impression_at,
        daily_impressions.last_impression_at
    from {{ ref('int_sigma__impressions_daily') }} as daily_impressions
    inner join checked_days
        on daily_impressions.impression_date = checked_days.impression_date

),

missing_from_rollup as (

    select * from expected
    except
    select * from actual

),

not_in_fct as (

    select * from actual
    except
    select * from expected

)

select
    'missing from the rollup' as problem,
    missing_from_rollup.impression_date,
    missing_from_rollup.workbook_url_id,
    missing_from_rollup.element_id,
    missing_from_rollup.user_email
from missing_from_rollup
union all
select
    'not in fct' as problem,
    not_in_fct.impression_date,
    not_in_fct.workbook_url_id,
    not_in_fct.element_id,
    not_in_fct.user_email
from not_in_fct
