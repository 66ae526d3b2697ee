-- The daily rollup holds exactly fct's events summed per UTC day, workbook, element and user
-- (impressions, first and last time), compared both ways. Checks the days recomputed in the
-- data-test scope (since the last build whose data tests all passed; every day when it is
-- whole tables: macros/sigma_test_scope.sql), so each day is checked
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

compared as (

    -- Both sides counted per row in one aggregate (it spills under memory_limit, where a set
    -- difference of two large inputs does not): a row held more often by one side is a problem.
    select
        impression_date,
        workbook_url_id,
        element_id,
        user_email,
        impressions,
        first_impression_at,
        last_impression_at,
        sum(in_expected) as in_expected,
        sum(in_actual) as in_actual
    from (
        select
            *,
            1 as in_expected,
            0 as in_actual
        from expected
        union all
        select
            *,
            0 as in_expected,
            1 as in_actual
        from actual
    ) as both_sides
    group by
        impression_date,
        workbook_url_id,
        element_id,
        user_email,
        impressions,
        first_impression_at,
        last_impression_at

)

select
    impression_date,
    workbook_url_id,
    element_id,
    user_email,
    case when in_expected > in_actual then 'missing from the rollup' else 'not in fct' end as problem
from compared
where in_expected <> in_actual
