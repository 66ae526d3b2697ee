-- The engine's floor for the workbook mart: marts.sigma_workbook_impressions written by hand as
-- one query straight from the raw landing tables (no views, no incremental logic, no tests).
-- Same work in substance: normalize, validate, deduplicate by event key (latest file wins, counts
-- summed within it), keep known workbooks, window sums, unique users, the 60-day `used` list.
-- Timestamps are parsed with DuckDB's cast (the dbt models parse to the stricter contract rule).
-- {window_end} is as_of_date + 1 day, filled in by the bench.
create or replace table main.bench_workbook_mart as
with

raw_rows as (
    select
        impression_rows._file_uri,
        loaded_files.last_modified,
        try_cast(nullif(trim(impression_rows.request_time), '') as timestamp) as request_time,
        lower(trim(impression_rows.user_email)) as user_email,
        trim(impression_rows.workbook_url_id) as workbook_url_id,
        nullif(trim(impression_rows.element_id), '') as element_id,
        try_cast(coalesce(nullif(trim(impression_rows."count"), ''), '1') as bigint) as impression_count
    from sigma_raw.impression_rows as impression_rows
    inner join sigma_raw.loaded_files as loaded_files
        on impression_rows._file_uri = loaded_files.file_uri and loaded_files.status = 'loaded'
),

per_file as (
    select
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        _file_uri,
        last_modified,
        sum(impression_count) as impression_count
    from raw_rows
    where request_time is not null
        and user_email <> ''
        and workbook_url_id <> ''
        and impression_count >= 1
    group by all
),

events as (
    select *
    from per_file
    qualify row_number() over (
        partition by request_time, user_email, workbook_url_id, element_id
        order by last_modified desc, _file_uri desc
    ) = 1
),

known_events as (
    select events.*
    from events
    inner join bench_inventory.workbooks as workbooks
        on events.workbook_url_id = workbooks.workbook_url_id
    where events.request_time < timestamp '{window_end}'
),

metrics as (
    select
        workbook_url_id,
        sum(impression_count) filter (where request_time >= timestamp '{window_end}' - interval 7 day) as t7,
        sum(impression_count) filter (where request_time >= timestamp '{window_end}' - interval 14 day) as t14,
        sum(impression_count) filter (where request_time >= timestamp '{window_end}' - interval 30 day) as t30,
        sum(impression_count) filter (where request_time >= timestamp '{window_end}' - interval 60 day) as t60,
        sum(impression_count) filter (where request_time >= timestamp '{window_end}' - interval 90 day) as t90,
        count(distinct user_email) filter (where request_time >= timestamp '{window_end}' - interval 14 day) as u14,
        count(distinct user_email) filter (where request_time >= timestamp '{window_end}' - interval 30 day) as u30,
        max(request_time) as last_impression_at
    from known_events
    group by workbook_url_id
),

users_60d as (
    select
        workbook_url_id,
        user_email,
        sum(impression_count) as impressions,
        max(request_time) as last_impression_at
    from known_events
    where request_time >= timestamp '{window_end}' - interval 60 day
    group by workbook_url_id, user_email
),

used as (
    select
        workbook_url_id,
        list(
            {'user_email': user_email, 'impressions': impressions, 'last_impression_at': last_impression_at}
            order by impressions desc, user_email
        ) as used
    from users_60d
    group by workbook_url_id
)

select
    workbooks.workbook_url_id,
    workbooks.name as workbook_name,
    workbooks.path,
    workbooks.owner_email,
    coalesce(metrics.t7, 0) as total_impressions_7d,
    coalesce(metrics.t14, 0) as total_impressions_14d,
    coalesce(metrics.t30, 0) as total_impressions_30d,
    coalesce(metrics.t60, 0) as total_impressions_60d,
    coalesce(metrics.t90, 0) as total_impressions_90d,
    coalesce(metrics.u14, 0) as unique_users_14d,
    coalesce(metrics.u30, 0) as unique_users_30d,
    metrics.last_impression_at,
    date_diff('day', metrics.last_impression_at, timestamp '{window_end}' - interval 1 day) as days_since_last_impression,
    coalesce(used.used, []) as used
from bench_inventory.workbooks as workbooks
left join metrics on workbooks.workbook_url_id = metrics.workbook_url_id
left join used on workbooks.workbook_url_id = used.workbook_url_id;
