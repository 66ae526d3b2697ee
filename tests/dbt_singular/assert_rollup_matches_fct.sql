-- The daily rollup holds exactly fct's events summed per UTC day, workbook, element and user
-- (impressions, first and last time), compared both ways: a group missing from either side or
-- with other values is a problem (a group held twice is the rollup's uniqueness test's). Checks
-- the days recomputed in the data-test scope (since the last build whose data tests all
-- passed; every day when it is whole tables: macros/sigma_test_scope.sql), so each day is
-- checked whenever it changes and the daily cost follows the new data.
-- depends_on: {{ ref('int_sigma__impressions_deduplicated') }}
{%- set whole_tables = sigma_recent_predicate('_deduplicated_at') | trim == 'true' %}
with
{% if not whole_tables %}
checked_days as (

    {{ sigma_recent_days() }}
    union
    select distinct impression_date
    from {{ ref('int_sigma__impressions_daily') }}
    where {{ sigma_recent_predicate('_deduplicated_at') }}

),
{% endif %}

events as {{ sigma_inline_cte() }} (

    select
        *,
        cast(request_time as date) as impression_date
    from {{ ref('fct_sigma_impressions') }}

),

checked_events as (

    select events.*
    from events
    {%- if not whole_tables %}
    inner join checked_days
        on events.impression_date = checked_days.impression_date
    {%- endif %}

),

expected as (

    select
        impression_date,
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        min(request_time) as first_impression_at,
        max(request_time) as last_impression_at
    from checked_events
    group by impression_date, workbook_url_id, element_id, user_email

),

actual as (

    select daily_impressions.*
    from {{ ref('int_sigma__impressions_daily') }} as daily_impressions
    {%- if not whole_tables %}
    inner join checked_days
        on daily_impressions.impression_date = checked_days.impression_date
    {%- endif %}

),

compared as (

    select
        coalesce(expected.impression_date, actual.impression_date) as impression_date,
        coalesce(expected.workbook_url_id, actual.workbook_url_id) as workbook_url_id,
        coalesce(expected.element_id, actual.element_id) as element_id,
        coalesce(expected.user_email, actual.user_email) as user_email,
        case
            when actual.impression_date is null then 'missing from the rollup'
            when expected.impression_date is null then 'not in fct'
            else 'impressions or times differ'
        end as problem
    from expected
    full outer join actual
        on
            expected.impression_date = actual.impression_date
            and expected.workbook_url_id = actual.workbook_url_id
            and expected.element_id is not distinct from actual.element_id
            and expected.user_email = actual.user_email
    where
        expected.impression_date is null
        or actual.impression_date is null
        or expected.impressions <> actual.impressions
        or expected.first_impression_at <> actual.first_impression_at
        or expected.last_impression_at <> actual.last_impression_at

)

select * from compared
