{#-
    Aggregates shared by the workbook and element marts, over rows of
    int_sigma__impressions_resolved already restricted to events before the window end.
-#}

{#- Sum as BIGINT, 0 when there are no values, saturating at the BIGINT maximum (a count may
    be as large as the BIGINT maximum itself, so sums of counts could overflow). -#}
{% macro sigma_sum_bigint(expression) -%}
    cast(
        least(coalesce(sum(cast({{ expression }} as decimal(38, 0))), 0), 9223372036854775807)
        as {{ dbt.type_bigint() }}
    )
{%- endmacro %}

{#- Sum of impression_count in the N-day window, as BIGINT (0 when none). -#}
{% macro sigma_window_impressions(days, timestamp_column="request_time", value="impression_count") -%}
    {{ sigma_sum_bigint("case when " ~ sigma_in_window(timestamp_column, days) ~ " then " ~ value ~ " else 0 end") }}
{%- endmacro %}

{#- Distinct users in the N-day window, as BIGINT. -#}
{% macro sigma_window_users(days, timestamp_column="request_time", user_column="user_email") -%}
    cast(count(distinct case when {{ sigma_in_window(timestamp_column, days) }} then {{ user_column }} end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- The per-resource aggregates: total_impressions_<N>d for every window, unique users 14/30d,
    the previous 14 days, the stale window and the last impression. -#}
{% macro sigma_resource_aggregates() -%}
    {%- for days in sigma_windows() %}
    {{ sigma_window_impressions(days) }} as total_impressions_{{ days }}d,
    {%- endfor %}
    {{ sigma_window_users(14) }} as unique_users_14d,
    {{ sigma_window_users(30) }} as unique_users_30d,
    {{ sigma_sum_bigint("case when " ~ sigma_in_previous_window('request_time', 14) ~ " then impression_count else 0 end") }} as impressions_previous_14d,
    {{ sigma_window_impressions(var('sigma_stale_after_days', 30)) }} as impressions_stale_window,
    max(request_time) as last_impression_at
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
    {{ metrics }}.last_impression_at
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
