{#-
    Schemas are named exactly as configured (`staging`, `intermediate`, `marts`, `inventory`),
    not prefixed with the target schema: the marts are a contract users query by name.
    Models without a custom schema build into the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
