-- Every mart of the dbt project, written by hand as plain DuckDB SQL straight from the parsed
-- rows, the manifest and the inventory: no views of the project, no incremental logic, no
-- rollup, no macros. It is the independent reference the tests compare the dbt marts to
-- (tests/functional: identical rows on the demo, the fixtures and the hostile corpus) and the
-- benchmark's "hand-written SQL of all the marts".
--
-- Placeholders, filled by tests/helpers/marts_reference.py:
--   {parsed_rows}  a SELECT of one row per landed record with _file_uri, _file_row_number,
--                  _loaded_at, raw_request_time, raw_user_email, raw_workbook_url_id,
--                  raw_element_id, raw_count, event_name, event_status (trimmed, NULL when
--                  empty), request_time, user_email, workbook_url_id, element_id,
--                  impression_count, rejection_reason (NULL when valid)
--   {file_columns} a SELECT of file_uri, has_event_name_column, has_event_status_column
--   {raw_schema}   the loader's schema (loaded_files, rejected_lines)
--   {workbooks}, {elements}   the inventory relations (the seeds' columns)
--   {as_of_date}   YYYY-MM-DD; windows end at as_of_date + 1 day 00:00 UTC
-- Windows: N-day = [as_of_date - (N-1) days, as_of_date + 1 day); previous 14 days =
-- [as_of_date - 27 days, as_of_date - 13 days); stale after 30 days; `used` over 60 days.

create schema if not exists reference;

-- The rows of each loaded file's landed version that are view events (the default patterns:
-- where the file has an event name column, names matching view|open anywhere; where it has an
-- event status column, empty statuses or success|succeeded|ok in full; any case). Rows of other
-- events count nowhere and are rejected nowhere.
create or replace table reference.parsed_rows as
select rows.*
from ({parsed_rows}) as rows
inner join {raw_schema}.loaded_files as files
    on rows._file_uri = files.file_uri and rows._loaded_at = files.loaded_at and files.status = 'loaded'
inner join ({file_columns}) as file_columns on rows._file_uri = file_columns.file_uri
where
    (not file_columns.has_event_name_column or coalesce(regexp_matches(rows.event_name, 'view|open', 'i'), false))
    and (
        not file_columns.has_event_status_column
        or rows.event_status is null
        or regexp_full_match(rows.event_status, 'success|succeeded|ok', 'i')
    );

create or replace table reference.workbooks as
select
    nullif(trim(cast(workbook_url_id as varchar), chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12)), '') as workbook_url_id,
    cast(name as varchar) as workbook_name,
    cast(path as varchar) as path,
    lower(trim(cast(owner_email as varchar), chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12))) as owner_email,
    try_cast(created_at as timestamp) as created_at
from {workbooks};

create or replace table reference.elements as
select
    nullif(trim(cast(workbook_url_id as varchar), chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12)), '') as workbook_url_id,
    nullif(trim(cast(element_id as varchar), chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12)), '') as element_id,
    cast(page_name as varchar) as page_name,
    cast(name as varchar) as element_name,
    cast(element_type as varchar) as element_type
from {elements};

-- Deduplicated events: valid rows of the landed version of each loaded file, summed per key and
-- file; per key the file with the latest last_modified (then the greatest URI) wins.
create or replace table reference.events as
with per_file as (
    select
        rows.request_time,
        rows.user_email,
        rows.workbook_url_id,
        rows.element_id,
        rows._file_uri,
        files.last_modified,
        least(sum(cast(rows.impression_count as decimal(38, 0))), 9223372036854775807)::bigint as impression_count
    from reference.parsed_rows as rows
    inner join {raw_schema}.loaded_files as files
        on rows._file_uri = files.file_uri and rows._loaded_at = files.loaded_at and files.status = 'loaded'
    where rows.rejection_reason is null
    group by all
)
select
    request_time,
    user_email,
    workbook_url_id,
    element_id,
    impression_count,
    _file_uri,
    case when element_id is null then 'sigma_workbook' else 'sigma_workbook_element' end as resource_type,
    wb.workbook_url_id is not null as is_known_workbook,
    wb.workbook_url_id is not null and el.element_id is not null as is_known_element
from per_file
left join reference.workbooks as wb using (workbook_url_id)
left join reference.elements as el using (workbook_url_id, element_id)
qualify row_number() over (
    partition by request_time, user_email, workbook_url_id, element_id
    order by last_modified desc, _file_uri desc
) = 1;

create or replace table reference.fct_sigma_impressions as
select
    md5(
        cast(request_time as varchar) || '|' || length(user_email) || ':' || user_email
        || '|' || length(workbook_url_id) || ':' || workbook_url_id
        || '|' || coalesce(length(element_id) || ':' || element_id, '-')
    ) as impression_id,
    request_time, user_email, workbook_url_id, element_id, impression_count, resource_type, _file_uri
from reference.events;

create or replace macro reference_window_start(days) as
    cast(date '{as_of_date}' - cast(days - 1 as integer) as timestamp);
create or replace macro reference_window_end() as cast(date '{as_of_date}' + 1 as timestamp);

create or replace table reference.counted as
select * from reference.events where request_time < reference_window_end();

create or replace table reference.history as
select min(request_time) as history_start_at from reference.counted;

-- One row per workbook or element with impressions before the window end.
create or replace table reference.resource_metrics as
with resource_events as (
    select 'wb' as kind, workbook_url_id, null::varchar as element_id, user_email, request_time, impression_count
    from reference.counted where is_known_workbook
    union all
    select 'el', workbook_url_id, element_id, user_email, request_time, impression_count
    from reference.counted where is_known_element
),
metrics as (
    select
        kind, workbook_url_id, element_id,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(7)), 0), 9223372036854775807)::bigint as t7,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(14)), 0), 9223372036854775807)::bigint as t14,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(30)), 0), 9223372036854775807)::bigint as t30,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(60)), 0), 9223372036854775807)::bigint as t60,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(90)), 0), 9223372036854775807)::bigint as t90,
        count(distinct user_email) filter (where request_time >= reference_window_start(14)) as u14,
        count(distinct user_email) filter (where request_time >= reference_window_start(30)) as u30,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(28) and request_time < reference_window_start(14)), 0), 9223372036854775807)::bigint as previous_14d,
        max(request_time) as last_impression_at
    from resource_events
    group by all
),
user_60d as (
    select kind, workbook_url_id, element_id, user_email,
        least(coalesce(sum(cast(impression_count as decimal(38, 0))), 0), 9223372036854775807)::bigint as impressions, max(request_time) as last_impression_at
    from resource_events
    where request_time >= reference_window_start(60)
    group by all
),
used as (
    select kind, workbook_url_id, element_id,
        list({'user_email': user_email, 'impressions': impressions, 'last_impression_at': last_impression_at}
            order by impressions desc, user_email) as used
    from user_60d
    group by all
)
select metrics.*, used.used
from metrics
left join used
    on metrics.kind = used.kind and metrics.workbook_url_id = used.workbook_url_id
    and metrics.element_id is not distinct from used.element_id;

create or replace table reference.sigma_workbook_impressions as
with joined as (
    select
        wb.workbook_url_id, wb.workbook_name, wb.path, wb.owner_email, wb.created_at,
        coalesce(m.t7, 0) as t7, coalesce(m.t14, 0) as t14, coalesce(m.t30, 0) as t30,
        coalesce(m.t60, 0) as t60, coalesce(m.t90, 0) as t90,
        coalesce(m.u14, 0) as u14, coalesce(m.u30, 0) as u30,
        coalesce(m.previous_14d, 0) as previous_14d, m.last_impression_at,
        coalesce(m.used, []) as used, h.history_start_at
    from reference.workbooks as wb
    cross join reference.history as h
    left join reference.resource_metrics as m on m.kind = 'wb' and m.workbook_url_id = wb.workbook_url_id
)
select
    workbook_url_id, workbook_name, path, owner_email,
    t7 as total_impressions_7d, t14 as total_impressions_14d, t30 as total_impressions_30d,
    t60 as total_impressions_60d, t90 as total_impressions_90d,
    u14 as unique_users_14d, u30 as unique_users_30d, last_impression_at,
    cast(date '{as_of_date}' - cast(last_impression_at as date) as integer) as days_since_last_impression,
    t14 - previous_14d as impressions_trend_14d,
    cast(t14 - previous_14d as double) / nullif(previous_14d, 0) as impressions_trend_14d_pct,
    rank() over (order by t30 desc, u30 desc) as popularity_rank,
    coalesce(history_start_at <= reference_window_start(30), false) as has_enough_history,
    coalesce(history_start_at <= reference_window_start(30), false) and t30 = 0
        and coalesce(created_at < reference_window_start(30), true) as is_stale,
    previous_14d as impressions_previous_14d,
    used,
    date '{as_of_date}' as as_of_date
from joined;

create or replace table reference.sigma_element_impressions as
with joined as (
    select
        el.workbook_url_id, el.element_id, el.element_name, el.page_name, el.element_type,
        wb.workbook_name, wb.created_at,
        coalesce(m.t7, 0) as t7, coalesce(m.t14, 0) as t14, coalesce(m.t30, 0) as t30,
        coalesce(m.t60, 0) as t60, coalesce(m.t90, 0) as t90,
        coalesce(m.u14, 0) as u14, coalesce(m.u30, 0) as u30,
        coalesce(m.previous_14d, 0) as previous_14d, m.last_impression_at,
        coalesce(m.used, []) as used, h.history_start_at
    from reference.elements as el
    cross join reference.history as h
    left join reference.workbooks as wb on el.workbook_url_id = wb.workbook_url_id
    left join reference.resource_metrics as m
        on m.kind = 'el' and m.workbook_url_id = el.workbook_url_id and m.element_id = el.element_id
)
select
    workbook_url_id, element_id, element_name, page_name, element_type, workbook_name,
    t7 as total_impressions_7d, t14 as total_impressions_14d, t30 as total_impressions_30d,
    t60 as total_impressions_60d, t90 as total_impressions_90d,
    u14 as unique_users_14d, u30 as unique_users_30d, last_impression_at,
    cast(date '{as_of_date}' - cast(last_impression_at as date) as integer) as days_since_last_impression,
    t14 - previous_14d as impressions_trend_14d,
    cast(t14 - previous_14d as double) / nullif(previous_14d, 0) as impressions_trend_14d_pct,
    rank() over (order by t30 desc, u30 desc) as popularity_rank,
    coalesce(history_start_at <= reference_window_start(30), false) as has_enough_history,
    coalesce(history_start_at <= reference_window_start(30), false) and t30 = 0
        and coalesce(created_at < reference_window_start(30), true) as is_stale,
    previous_14d as impressions_previous_14d,
    used,
    date '{as_of_date}' as as_of_date
from joined;

create or replace table reference.sigma_user_activity as
select
    user_email,
    least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(7)), 0), 9223372036854775807)::bigint as impressions_7d,
    least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(14)), 0), 9223372036854775807)::bigint as impressions_14d,
    least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(30)), 0), 9223372036854775807)::bigint as impressions_30d,
    least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(60)), 0), 9223372036854775807)::bigint as impressions_60d,
    count(distinct workbook_url_id) filter (where request_time >= reference_window_start(30)) as workbooks_viewed_30d,
    min(request_time) as first_impression_at,
    max(request_time) as last_impression_at,
    coalesce(least(coalesce(sum(cast(impression_count as decimal(38, 0))) filter (where request_time >= reference_window_start(14)), 0), 9223372036854775807)::bigint, 0) > 0 as is_active_14d,
    date '{as_of_date}' as as_of_date
from reference.counted
group by user_email;

create or replace table reference.sigma_daily_impressions as
select
    cast(e.request_time as date) as impression_date,
    e.workbook_url_id,
    any_value(wb.workbook_name) as workbook_name,
    least(coalesce(sum(cast(e.impression_count as decimal(38, 0))), 0), 9223372036854775807)::bigint as impressions,
    count(distinct e.user_email) as unique_users
from reference.counted as e
inner join reference.workbooks as wb on e.workbook_url_id = wb.workbook_url_id
group by 1, 2;

create or replace table reference.sigma_unmatched_impressions as
select
    workbook_url_id,
    element_id,
    case when not is_known_workbook then 'unknown_workbook' else 'unknown_element' end as reason,
    least(coalesce(sum(cast(impression_count as decimal(38, 0))), 0), 9223372036854775807)::bigint as impressions,
    count(distinct user_email) as unique_users,
    min(request_time) as first_seen_at,
    max(request_time) as last_seen_at
from reference.events
where not is_known_workbook or (element_id is not null and not is_known_element)
group by all;

create or replace table reference.sigma_rejected_impressions as
select
    _file_uri, _file_row_number, null::bigint as line_number, rejection_reason as reason,
    raw_request_time, raw_user_email, raw_workbook_url_id, raw_element_id, raw_count,
    null::varchar as raw_text, null::varchar as error, _loaded_at
from reference.parsed_rows
where rejection_reason is not null
union all
select
    _file_uri, null::bigint, line_number, 'malformed_line',
    null::varchar, null::varchar, null::varchar, null::varchar, null::varchar,
    raw_text, error, _loaded_at
from {raw_schema}.rejected_lines;
