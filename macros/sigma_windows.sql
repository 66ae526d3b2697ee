{#-
    The report date and its windows. The N-day window is the UTC days
    [as_of_date - (N-1) days, as_of_date]; as_of_date is vars.as_of_date (YYYY-MM-DD), today in UTC
    when empty. The models compare days (impression_date) with these date literals.
-#}

{#- vars.as_of_date as a Python date, validated. -#}
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

{#- The first day of the N-day window, as a SQL date: sigma_window_start(1) is as_of_date. -#}
{% macro sigma_window_start(days) -%}
    cast('{{ (sigma_as_of_date() - modules.datetime.timedelta(days=(days | int) - 1)).strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}

{#- The whole-day windows listed by `var_name` (e.g. impression_windows), validated. -#}
{% macro sigma_windows(var_name) -%}
    {%- set windows = [] -%}
    {%- for days in var(var_name) -%}
        {%- if days is not number or days < 1 -%}
            {{ exceptions.raise_compiler_error("vars." ~ var_name ~ " must list whole days (1 or more), got " ~ days) }}
        {%- endif -%}
        {%- do windows.append(days | int) -%}
    {%- endfor -%}
    {{ return(windows) }}
{%- endmacro %}
