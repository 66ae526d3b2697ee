{#-
    Aggregates of the daily rollup (int_sigma__impressions_daily and its resolved view): one
    row per UTC day, workbook, element and user with `impressions`, `first_impression_at` and
    `last_impression_at`. Every window is whole UTC days, so these equal the same sums over the
    events.
-#}

{#- Sum as BIGINT, 0 when there are no values, saturating at the BIGINT maximum (a count may
    be as large as the BIGINT maximum itself, so sums of counts could overflow). -#}
{% macro sigma_sum_bigint(expression) -%}
    cast(
        least(coalesce(sum(cast({{ expression }} as decimal(38, 0))), 0), 9223372036854775807)
        as {{ dbt.type_bigint() }}
    )
{%- endmacro %}

{#- Sum of `value` over the rows whose day is in the N-day window, as BIGINT (0 when none). -#}
{% macro sigma_window_impressions(days, date_column="impression_date", value="impressions") -%}
    {{ sigma_sum_bigint("case when " ~ sigma_day_in_window(date_column, days) ~ " then " ~ value ~ " else 0 end") }}
{%- endmacro %}

{#- Distinct `distinct_column` over the rows whose day is in the N-day window, as BIGINT. -#}
{% macro sigma_window_distinct(days, distinct_column="user_email", date_column="impression_date") -%}
    cast(count(distinct case when {{ sigma_day_in_window(date_column, days) }} then {{ distinct_column }} end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- Per resource and user, over rollup rows before the window end: impressions in every window,
    the previous 14 days, the stale window and the `used` window, whether the user viewed it in
    the 14 and 30 days (for unique users), and the last impression (overall and in the `used`
    window). Plain sums and maxima: no distinct aggregate, so DuckDB can spill them. -#}
{% macro sigma_resource_user_aggregates() -%}
    {%- for days in sigma_windows() %}
    {{ sigma_window_impressions(days) }} as total_impressions_{{ days }}d,
    {%- endfor %}
    {{ sigma_sum_bigint("case when " ~ sigma_day_in_previous_window('impression_date', 14) ~ " then impressions else 0 end") }} as impressions_previous_14d,
    {{ sigma_window_impressions(var('sigma_stale_after_days', 30)) }} as impressions_stale_window,
    {{ sigma_window_impressions(sigma_used_window_days()) }} as impressions_used_window,
    max(case when {{ sigma_day_in_window('impression_date', 14) }} then 1 else 0 end) as viewed_14d,
    max(case when {{ sigma_day_in_window('impression_date', 30) }} then 1 else 0 end) as viewed_30d,
    max(case when {{ sigma_day_in_window('impression_date', sigma_used_window_days()) }} then 1 else 0 end) as viewed_used_window,
    max(case when {{ sigma_day_in_window('impression_date', sigma_used_window_days()) }} then last_impression_at end) as last_impression_used_window_at,
    max(last_impression_at) as last_impression_at
{%- endmacro %}

{#- Per resource, over the rows of sigma_resource_user_aggregates: the marts' metrics. -#}
{% macro sigma_resource_aggregates() -%}
    {%- for days in sigma_windows() %}
    {{ sigma_sum_bigint('total_impressions_' ~ days ~ 'd') }} as total_impressions_{{ days }}d,
    {%- endfor %}
    cast(sum(viewed_14d) as {{ dbt.type_bigint() }}) as unique_users_14d,
    cast(sum(viewed_30d) as {{ dbt.type_bigint() }}) as unique_users_30d,
    {{ sigma_sum_bigint('impressions_previous_14d') }} as impressions_previous_14d,
    {{ sigma_sum_bigint('impressions_stale_window') }} as impressions_stale_window,
    max(last_impression_at) as last_impression_at
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
