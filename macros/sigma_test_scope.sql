{#-
    The scope of the data tests whose cost would grow with the history. They say
    `where: "sigma_recent(<column>)"` (generic tests) or call sigma_recent_predicate(<column>)
    (singular tests), <column> being the time a row was written (_loaded_at: landed by the
    loader; _deduplicated_at: recomputed by dbt). The rule:

    - A build whose data tests ALL ran and passed (status pass or warn: a warning is a reported
      data problem, not a failed check) records its start time in the watermark table
      sigma_data_test_watermark (on-run-end hook sigma_record_data_test_watermark), together
      with the parse signature it built with.
    - The next build checks only the rows written after that watermark: what this run, and any
      earlier run whose tests failed, errored, were skipped, were interrupted or did not all run
      (a --select subset, `dbt run`), wrote. Every row is checked by at least one build whose
      tests all passed, and the daily cost follows the new data, not the history.
    - No watermark yet (the first build), or one recorded with another parse signature (aliases
      or parsing rules changed, so old rows were re-parsed and keep their _loaded_at): whole tables.
    - vars.sigma_data_test_days = N > 0 also re-checks the rows written in the last N days (a
      margin; 0, the default, adds none). null: whole tables always (make test and CI).
-#}

{#- Whether this engine keeps the watermark. Spark rebuilds every model in full (plain Parquet
    cannot delete rows), so its data tests check whole tables and it keeps none. -#}
{% macro sigma_keeps_data_test_watermark() -%}
    {{ return(adapter.dispatch("sigma_keeps_data_test_watermark", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_keeps_data_test_watermark() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__sigma_keeps_data_test_watermark() -%}
    {{ return(false) }}
{%- endmacro %}

{#- The watermark table (in the target schema). -#}
{% macro sigma_data_test_watermark_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier="sigma_data_test_watermark")) }}
{%- endmacro %}

{#- The watermark as text 'YYYY-MM-DD HH:MM:SS.ffffff' (none when there is none for this parse
    signature, or when not executing). -#}
{% macro sigma_data_test_watermark() -%}
    {%- if not execute or not sigma_keeps_data_test_watermark() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier="sigma_data_test_watermark") -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select max(tested_through) from {{ relation }} where parse_signature = '{{ sigma_parse_signature() }}'
    {%- endset -%}
    {%- set value = run_query(query).columns[0].values()[0] -%}
    {{ return(none if value is none else value.strftime("%Y-%m-%d %H:%M:%S.%f")) }}
{%- endmacro %}

{#- True for the rows of the current test scope (see the rule above). -#}
{% macro sigma_recent_predicate(column) -%}
    {%- set days = var("sigma_data_test_days", none) -%}
    {%- if days is none or (days | string | trim) in ("", "none", "null") -%}
        true
    {%- else -%}
        {%- set watermark = sigma_data_test_watermark() -%}
        {%- if watermark is none -%}
            true
        {%- elif (days | int) > 0 -%}
            ({{ column }} > cast('{{ watermark }}' as {{ dbt.type_timestamp() }}) or {{ column }} >= cast('{{ (run_started_at - modules.datetime.timedelta(days=days | int)).strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}))
        {%- else -%}
            {{ column }} > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The days of the rollup a scoped singular test looks at: those holding events recomputed
    in the current test scope (every day when the scope is whole tables). -#}
{% macro sigma_recent_days() -%}
    select distinct impression_date
    from {{ ref('int_sigma__impressions_deduplicated') }}
    where {{ sigma_recent_predicate('_deduplicated_at') }}
{%- endmacro %}

{#- on-run-end: record this run's start as the watermark when every data test of this project
    ran in this invocation and none failed, errored or was skipped. Otherwise the watermark
    stays, so the next build re-checks the rows written since. -#}
{% macro sigma_record_data_test_watermark(results) -%}
    {%- if not execute or not sigma_keeps_data_test_watermark() -%}
        {{ return("") }}
    {%- endif -%}
    {%- set expected = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == "test" and node.package_name == "sigma_impressions" -%}
            {%- do expected.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == "test" and result.node.package_name == "sigma_impressions" -%}
            {%- if (result.status | string | lower) not in ("pass", "warn", "teststatus.pass", "teststatus.warn") -%}
                {{ return("") }}
            {%- endif -%}
            {%- do passed.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not expected or (expected | reject("in", passed) | list) -%}
        {{ return("") }}
    {%- endif -%}
    {%- set relation = sigma_data_test_watermark_relation() -%}
    {%- do adapter.create_schema(relation) -%}
    {%- set statements -%}
        create table if not exists {{ relation }} (
            tested_through {{ dbt.type_timestamp() }},
            parse_signature {{ dbt.type_string() }}
        );
        delete from {{ relation }};
        insert into {{ relation }} values ({{ sigma_run_started_at() }}, '{{ sigma_parse_signature() }}')
    {%- endset -%}
    {{ return(statements) }}
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
