{#-
    The parse signature: a hash of everything that decides how raw rows become events (the
    alias list and the parsing rules' version). The incremental models store it on every row;
    when it differs from the current one (a user extended vars.sigma_column_aliases, or the
    parsing macros changed), the next normal run re-parses, regroups and recomputes everything,
    so it still equals a full refresh. Bump sigma_parse_rules_version when a parsing macro's
    result changes.
-#}
{% macro sigma_parse_rules_version() -%}
    {{ return("2026-11-26.1") }}
{%- endmacro %}

{% macro sigma_parse_signature() -%}
    {{ return(local_md5(tojson(sigma_column_aliases(), sort_keys=true) ~ "|" ~ sigma_parse_rules_version())) }}
{%- endmacro %}

{#- True when `relation` (an incremental model's own table) holds rows parsed with another
    signature, or predates the signature column. -#}
{% macro sigma_parse_signature_changed(relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute="name") | map("lower") | list -%}
    {%- if "_parse_signature" not in names -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ relation }} where _parse_signature <> '{{ sigma_parse_signature() }}'
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}
