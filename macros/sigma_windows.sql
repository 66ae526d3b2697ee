{#-
    Report windows. var('as_of_date') is `YYYY-MM-DD` ('' = today in UTC, at compile time).
    The N-day window is [as_of_date - (N-1) days 00:00, as_of_date + 1 day 00:00) in UTC; the
    window end is as_of_date + 1 day 00:00. Bounds are rendered as timestamp literals, so every
    adapter compares plain timestamps.
-#}

{#- The as_of_date as a Python date, validated. -#}
{% macro sigma_as_of_date() -%}
    {%- set configured = var("as_of_date", "") -%}
    {%- set configured = "" if configured is none else (configured | string | trim) -%}
    {%- if configured == "" -%}
        {{ return(modules.datetime.datetime.now(modules.pytz.utc).date()) }}
    {%- endif -%}
    {%- if not modules.re.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", configured) -%}
        {{ exceptions.raise_compiler_error("vars.as_of_date must be YYYY-MM-DD or empty, got '" ~ configured ~ "'") }}
    {%- endif -%}
    {{ return(modules.datetime.datetime.strptime(configured, "%Y-%m-%d").date()) }}
{%- endmacro %}

{#- A timestamp literal for a Python date/datetime. -#}
{% macro sigma_timestamp_literal(value) -%}
    cast('{{ value.strftime("%Y-%m-%d") }} 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The as_of_date as a SQL date literal. -#}
{% macro sigma_as_of_date_literal() -%}
    cast('{{ sigma_as_of_date().strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}

{#- The window end: as_of_date + 1 day 00:00 UTC. -#}
{% macro sigma_window_end() -%}
    {{ sigma_timestamp_literal(sigma_as_of_date() + modules.datetime.timedelta(days=1)) }}
{%- endmacro %}

{#- The start of the N-day window: as_of_date - (N-1) days 00:00 UTC. -#}
{% macro sigma_window_start(days) -%}
    {{ sigma_timestamp_literal(sigma_as_of_date() - modules.datetime.timedelta(days=(days | int) - 1)) }}
{%- endmacro %}

{#- True when `timestamp_column` falls in the N-day window. -#}
{% macro sigma_in_window(timestamp_column, days) -%}
    ({{ timestamp_column }} >= {{ sigma_window_start(days) }} and {{ timestamp_column }} < {{ sigma_window_end() }})
{%- endmacro %}

{#- True when `timestamp_column` falls in the previous 14 days (days 15 to 28 before and
    including as_of_date): [as_of_date - 27 days, as_of_date - 13 days). -#}
{% macro sigma_in_previous_window(timestamp_column, days=14) -%}
    ({{ timestamp_column }} >= {{ sigma_window_start(2 * (days | int)) }} and {{ timestamp_column }} < {{ sigma_window_start(days) }})
{%- endmacro %}

{#- True when `timestamp_column` is before the window end (all history that counts). -#}
{% macro sigma_before_window_end(timestamp_column) -%}
    ({{ timestamp_column }} < {{ sigma_window_end() }})
{%- endmacro %}

{#- The windows of the marts, from var('impression_windows'). -#}
{% macro sigma_windows() -%}
    {%- set windows = [] -%}
    {%- for days in var("impression_windows", [7, 14, 30, 60, 90]) -%}
        {%- do windows.append(days | int) -%}
    {%- endfor -%}
    {{ return(windows) }}
{%- endmacro %}

{#- Day-grain versions, for the daily rollup: the N-day window is the days
    [as_of_date - (N-1), as_of_date], the previous 14 days [as_of_date - 27, as_of_date - 14],
    and "before the window end" is every day up to as_of_date. -#}
{% macro sigma_date_literal(value) -%}
    cast('{{ value.strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}

{% macro sigma_day_in_window(date_column, days) -%}
    ({{ date_column }} >= {{ sigma_date_literal(sigma_as_of_date() - modules.datetime.timedelta(days=(days | int) - 1)) }} and {{ date_column }} <= {{ sigma_as_of_date_literal() }})
{%- endmacro %}

{% macro sigma_day_in_previous_window(date_column, days=14) -%}
    ({{ date_column }} >= {{ sigma_date_literal(sigma_as_of_date() - modules.datetime.timedelta(days=2 * (days | int) - 1)) }} and {{ date_column }} < {{ sigma_date_literal(sigma_as_of_date() - modules.datetime.timedelta(days=(days | int) - 1)) }})
{%- endmacro %}

{% macro sigma_day_before_window_end(date_column) -%}
    ({{ date_column }} <= {{ sigma_as_of_date_literal() }})
{%- endmacro %}

{#- The window of the `used` lists, in days (vars.sigma_used_window_days). -#}
{% macro sigma_used_window_days() -%}
    {{ return(var("sigma_used_window_days", 60) | int) }}
{%- endmacro %}

{#- The windows of sigma_user_activity (vars.sigma_user_activity_windows). -#}
{% macro sigma_user_activity_windows() -%}
    {%- set windows = [] -%}
    {%- for days in var("sigma_user_activity_windows", [7, 14, 30, 60]) -%}
        {%- do windows.append(days | int) -%}
    {%- endfor -%}
    {{ return(windows) }}
{%- endmacro %}
