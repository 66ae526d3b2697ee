{#-
    Data tests whose cost would grow with the history are scoped with `where: "sigma_recent(<column>)"`:
    with vars.sigma_data_test_days = N they check only the rows whose <column> (a load or
    recompute time) is in the last N days, i.e. the rows this and the recent runs wrote, so
    every row is checked when it is written and the daily cost follows the new data; with
    sigma_data_test_days null (make test, CI) they check whole tables. Everything else of
    dbt's own get_where_subquery is kept.
-#}
{% macro sigma_recent_predicate(column) -%}
    {%- set days = var("sigma_data_test_days", none) -%}
    {%- if days is none or (days | string | trim) in ("", "none", "null") -%}
        true
    {%- else -%}
        {{ column }} >= cast('{{ (run_started_at - modules.datetime.timedelta(days=days | int)).strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- The days of the rollup a scoped singular test looks at: those holding a recent
    recomputation (every day when sigma_data_test_days is null). -#}
{% macro sigma_recent_days() -%}
    select distinct impression_date
    from {{ ref('int_sigma__impressions_deduplicated') }}
    where {{ sigma_recent_predicate('_deduplicated_at') }}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where") -%}
    {%- if where -%}
        {%- set scoped = namespace(where=where) -%}
        {%- for column in modules.re.findall("sigma_recent\\(([A-Za-z_][A-Za-z0-9_]*)\\)", where) -%}
            {%- set scoped.where = scoped.where | replace("sigma_recent(" ~ column ~ ")", sigma_recent_predicate(column)) -%}
        {%- endfor -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ scoped.where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
