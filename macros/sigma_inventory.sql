{#-
    The resource inventory: the seeds `sigma_workbooks` / `sigma_workbook_elements` (schema
    `inventory`), or the relations named by var('sigma_workbooks_relation') /
    var('sigma_workbook_elements_relation') ("schema.table" or "database.schema.table"), e.g. the
    tables a Sigma metadata sync writes. Only the seeds' columns are read.
-#}
{% macro sigma_inventory_relation(var_name, seed_name) -%}
    {%- set configured = var(var_name, "") -%}
    {%- set configured = "" if configured is none else (configured | string | trim) -%}
    {%- if configured == "" -%}
        {%- if not sigma_demo_inventory_enabled() -%}
            {{ exceptions.raise_compiler_error(
                "vars." ~ var_name ~ " is empty and the demo inventory seeds are off: set vars."
                ~ var_name ~ " to your inventory ('schema.table'), or vars.sigma_demo_inventory: true") }}
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
