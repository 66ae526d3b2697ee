{#-
    The resource inventory, first match wins:
    1. the relations named by var('sigma_workbooks_relation') / var('sigma_workbook_elements_relation')
       ("schema.table" or "database.schema.table"), read with the seeds' columns (plus `url`,
       `is_archived`, `deleted_at`, `visualization_type` when the relation has them);
    2. the inventory synced from Sigma's REST API (`sigma-impressions inventory`), once a sync has
       succeeded (a `succeeded` row in sigma_raw.inventory_syncs);
    3. the seeds `sigma_workbooks` / `sigma_workbook_elements` (schema `inventory`).
-#}
{% macro sigma_inventory_relation(var_name, seed_name) -%}
    {%- set configured = var(var_name, "") -%}
    {%- set configured = "" if configured is none else (configured | string | trim) -%}
    {%- if configured == "" -%}
        {%- if not sigma_demo_inventory_enabled() -%}
            {#- Judged when the model runs, not at parse: a sync may supply the inventory. -#}
            {%- if execute -%}
                {{ exceptions.raise_compiler_error(
                    "vars." ~ var_name ~ " is empty, no Sigma API inventory sync has succeeded and the demo "
                    ~ "inventory seeds are off: run `sigma-impressions inventory`, set vars." ~ var_name
                    ~ " to your inventory ('schema.table'), or vars.sigma_demo_inventory: true") }}
            {%- endif -%}
            {{ return(none) }}
        {%- endif -%}
        {{ return(ref(seed_name)) }}
    {%- endif -%}
    {%- set parts = configured.split(".") -%}
    {%- if parts | length == 2 -%}
        {{ return(api.Relation.create(database=target.database, schema=parts[0], identifier=parts[1])) }}
    {%- elif parts | length == 3 -%}
        {{ return(api.Relation.create(database=parts[0], schema=parts[1], identifier=parts[2])) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "vars." ~ var_name ~ " must be '' (the seed), 'schema.table' or 'database.schema.table', got '"
            ~ configured ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#-
    Whether the demo inventory seeds are loaded: var('sigma_demo_inventory') when set (true/false),
    otherwise only when this package is the root project, so a parent project that installs the
    package never gets the demo seeds by accident. The seeds' `enabled` config says the same.
-#}
{% macro sigma_demo_inventory_enabled() -%}
    {%- set configured = var("sigma_demo_inventory", "") -%}
    {%- set configured = "" if configured is none else (configured | string | trim | lower) -%}
    {%- if configured == "" -%}
        {{ return(project_name == "sigma_impressions") }}
    {%- endif -%}
    {{ return(configured in ["true", "1", "yes"]) }}
{%- endmacro %}

{#- Which inventory feeds the staging models: 'relation', 'sigma_api' or 'seed' (see above). -#}
{% macro sigma_inventory_source(var_name) -%}
    {%- set configured = var(var_name, "") -%}
    {%- set configured = "" if configured is none else (configured | string | trim) -%}
    {%- if configured != "" -%}
        {{ return("relation") }}
    {%- elif sigma_api_inventory_synced() -%}
        {{ return("sigma_api") }}
    {%- else -%}
        {{ return("seed") }}
    {%- endif -%}
{%- endmacro %}

{#- True once `sigma-impressions inventory` has succeeded on this database (false while parsing). -#}
{% macro sigma_api_inventory_synced() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set syncs = source('sigma_raw', 'inventory_syncs') -%}
    {%- if adapter.get_relation(database=syncs.database, schema=syncs.schema, identifier=syncs.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set result = run_query("select count(*) from " ~ syncs ~ " where status = 'succeeded'") -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#-
    A table the inventory sync lands in sigma_raw, or (before the first sync) an empty relation
    with the given columns {name: type}, so the staging models build either way.
-#}
{% macro sigma_api_table(table_name, columns) -%}
    {%- set relation = source('sigma_raw', table_name) -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- if found is not none -%}
        {{ relation }}
    {%- else -%}
        (
            select
            {%- for name, type in columns.items() %}
                {#- varchar is the loader's name for text: the adapter's string type (Spark has no bare varchar) #}
                cast(null as {{ dbt.type_string() if type == "varchar" else type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}

{#- `column` of `relation` when it has one, else `fallback` (SQL). -#}
{% macro sigma_optional_column(relation, column, fallback) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for existing in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(existing.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ column if column in names else fallback }}
{%- endmacro %}
