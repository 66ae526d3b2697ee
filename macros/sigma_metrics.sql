{#-
    Aggregates of the daily rollup (int_sigma__impressions_daily and its resolved view): one
    row per UTC day, workbook, element and user with `impressions`, `first_impression_at` and
    `last_impression_at`. Every window is whole UTC days, so these equal the same sums over the
    events.
-#}

{#- Sum as BIGINT, 0 when there are no values, saturating at the BIGINT maximum (a count may
    be as large as the BIGINT maximum itself, so sums of counts could overflow). -#}
{% macro sigma_sum_bigint(expression) -%}
    {{ return(adapter.dispatch("sigma_sum_bigint", "sigma_impressions")(expression)) }}
{%- endmacro %}

{#- Portable: sum in a DECIMAL(38, 0), which holds any sum of BIGINTs this project sees. -#}
{% macro default__sigma_sum_bigint(expression) -%}
    cast(
        least(coalesce(sum(cast({{ expression }} as decimal(38, 0))), 0), 9223372036854775807)
        as {{ dbt.type_bigint() }}
    )
{%- endmacro %}

{#- DuckDB: sum() of BIGINT is already a 128-bit HUGEINT (no overflow), without a DECIMAL cast
    per row (the cast costs about as much as the aggregate itself). -#}
{% macro duckdb__sigma_sum_bigint(expression) -%}
    cast(least(coalesce(sum({{ expression }}), 0), 9223372036854775807) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- Sum of `value` over the rows whose day is in the N-day window, as BIGINT (0 when none). -#}
{% macro sigma_window_impressions(days, date_column="impression_date", value="impressions") -%}
    {{ sigma_sum_bigint("case when " ~ sigma_day_in_window(date_column, days) ~ " then " ~ value ~ " else 0 end") }}
{%- endmacro %}

{#- Distinct `distinct_column` over the rows whose day is in the N-day window, as BIGINT. -#}
{% macro sigma_window_distinct(days, distinct_column="user_email", date_column="impression_date") -%}
    cast(count(distinct case when {{ sigma_day_in_window(date_column, days) }} then {{ distinct_column }} end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- True when `date_column` is on or after the first day of the N-day window. The metrics read
    rows up to as_of_date only, so this one comparison places a row in the window. -#}
{% macro sigma_day_since(date_column, days) -%}
    ({{ date_column }} >= {{ sigma_date_literal(sigma_as_of_date() - modules.datetime.timedelta(days=(days | int) - 1)) }})
{%- endmacro %}

{#- The first day of the longest window that needs users (unique users over 14 and 30 days,
    the `used` window), as a date: older rows count for no user metric. -#}
{% macro sigma_user_metrics_first_day() -%}
    {%- set reach = [14, 30, sigma_used_window_days()] -%}
    {{ return(sigma_as_of_date() - modules.datetime.timedelta(days=(reach | max) - 1)) }}
{%- endmacro %}

{#- The window int_sigma__resource_users is built over in this run, as sigma_model_state takes it:
    its days (the user windows' first day to as_of_date) and its definition, what its rows depend
    on besides the data and the days (the parse signature and the `used` window). -#}
{% macro sigma_resource_users_window() -%}
    {{ return({
        "definition": sigma_parse_signature() ~ ";used_window_days=" ~ sigma_used_window_days(),
        "first_day": sigma_user_metrics_first_day(),
        "last_day": sigma_as_of_date(),
    }) }}
{%- endmacro %}

{#- Per resource, over rollup rows up to as_of_date: impressions in every window, the previous
    14 days and the stale window (conditional sums: each window is one comparison on the day),
    and the last impression. Reads rows with `impression_date`, `impressions` and
    `last_impression_at` (int_sigma__resource_days). -#}
{% macro sigma_resource_window_aggregates() -%}
    {%- for days in sigma_windows() %}
    {{ sigma_sum_bigint("case when " ~ sigma_day_since('impression_date', days) ~ " then impressions else 0 end") }} as total_impressions_{{ days }}d,
    {%- endfor %}
    {{ sigma_sum_bigint("case when " ~ sigma_day_in_previous_window('impression_date', 14) ~ " then impressions else 0 end") }} as impressions_previous_14d,
    {{ sigma_sum_bigint("case when " ~ sigma_day_since('impression_date', var('sigma_stale_after_days', 30)) ~ " then impressions else 0 end") }} as impressions_stale_window,
    max(last_impression_at) as last_impression_at
{%- endmacro %}


{#- Per resource and user, over rollup rows from sigma_user_metrics_first_day() to as_of_date:
    impressions and the last impression in the `used` window, and the user's last day (the
    unique-user windows compare it). -#}
{% macro sigma_resource_user_aggregates() -%}
    {{ sigma_sum_bigint("case when " ~ sigma_day_since('impression_date', sigma_used_window_days()) ~ " then impressions else 0 end") }} as impressions_used_window,
    max(case when {{ sigma_day_since('impression_date', sigma_used_window_days()) }} then last_impression_at end) as last_impression_used_window_at,
    max(impression_date) as last_impression_date
{%- endmacro %}

{#- The same, rolled up (a workbook's user from that user's rows of the workbook's elements). -#}
{% macro sigma_resource_user_rollup() -%}
    {{ sigma_sum_bigint('impressions_used_window') }} as impressions_used_window,
    max(last_impression_used_window_at) as last_impression_used_window_at,
    max(last_impression_date) as last_impression_date
{%- endmacro %}

{#- Per resource, over the rows of sigma_resource_user_aggregates: unique users and the `used`
    list, in one pass. -#}
{% macro sigma_resource_user_metrics() -%}
    cast(sum(case when {{ sigma_day_since('last_impression_date', 14) }} then 1 else 0 end) as {{ dbt.type_bigint() }}) as unique_users_14d,
    cast(sum(case when {{ sigma_day_since('last_impression_date', 30) }} then 1 else 0 end) as {{ dbt.type_bigint() }}) as unique_users_30d,
    {{ sigma_used_list('user_email', 'impressions_used_window', 'last_impression_used_window_at', sigma_day_since('last_impression_date', sigma_used_window_days())) }} as used
{%- endmacro %}

{#- Zero-filled metric columns after a left join of `metrics` onto the inventory. -#}
{% macro sigma_resource_metric_columns(metrics) -%}
    {%- for days in sigma_windows() %}
    coalesce({{ metrics }}.total_impressions_{{ days }}d, 0) as total_impressions_{{ days }}d,
    {%- endfor %}
    coalesce({{ metrics }}.unique_users_14d, 0) as unique_users_14d,
    coalesce({{ metrics }}.unique_users_30d, 0) as unique_users_30d,
    coalesce({{ metrics }}.impressions_previous_14d, 0) as impressions_previous_14d,
    coalesce({{ metrics }}.impressions_stale_window, 0) as impressions_stale_window,
    {{ metrics }}.last_impression_at,
    coalesce({{ metrics }}.used, {{ sigma_empty_used_list() }}) as used
{%- endmacro %}

{#- Columns derived from the zero-filled metrics: days since, trend, rank, stale. `created_at`
    is the resource's (or its workbook's) creation time, `history_start_at` the earliest event. -#}
{% macro sigma_resource_derived_columns(created_at="created_at", history_start_at="history_start_at") -%}
    {%- set stale_start = sigma_window_start(var('sigma_stale_after_days', 30)) -%}
    cast({{ dbt.datediff("cast(last_impression_at as date)", sigma_as_of_date_literal(), "day") }} as {{ dbt.type_int() }}) as days_since_last_impression,
    total_impressions_14d - impressions_previous_14d as impressions_trend_14d,
    cast(total_impressions_14d - impressions_previous_14d as {{ sigma_type_double() }})
    / nullif(impressions_previous_14d, 0) as impressions_trend_14d_pct,
    cast(rank() over (order by total_impressions_30d desc, unique_users_30d desc) as {{ dbt.type_bigint() }}) as popularity_rank,
    coalesce({{ history_start_at }} <= {{ stale_start }}, false) as has_enough_history,
    (
        coalesce({{ history_start_at }} <= {{ stale_start }}, false)
        and impressions_stale_window = 0
        and coalesce({{ created_at }} < {{ stale_start }}, true)
    ) as is_stale
{%- endmacro %}
