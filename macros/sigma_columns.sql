{#-
    Column resolution for the raw export table, Fivetran style.

    The loader lands one VARCHAR column per header spelling ever seen. These macros read the real
    columns of the relation (adapter.get_columns_in_relation), normalize each name with the same
    rule as `sigma-impressions check` (loader/contract.py), and emit every canonical column of
    var('sigma_column_aliases') as the first non-empty alias of the row. A canonical column with
    no raw column at all is emitted as NULL and reported in the dbt log; the staging model then
    rejects the rows (`missing_<column>`) and a warn test names the column, so it never goes
    unnoticed.
-#}

{#- The loader's own columns: never treated as export headers. -#}
{% macro sigma_raw_metadata_columns() -%}
    {{ return(["_file_uri", "_file_row_number", "_loaded_at", "_integration_name"]) }}
{%- endmacro %}

{#- '\ufeff Workbook URL ID ' -> 'workbook_url_id': strip a BOM, trim, lowercase, runs of
    characters other than a-z0-9 -> '_', strip leading/trailing '_'. -#}
{% macro sigma_normalize_header(header) -%}
    {%- set text = header | replace("\ufeff", "") -%}
    {%- set text = text.strip().lower() -%}
    {{ return(modules.re.sub("[^a-z0-9]+", "_", text).strip("_")) }}
{%- endmacro %}

{#- The same rule in SQL, for a text column (BOMs are stripped by the loader's header reader). -#}
{% macro sigma_normalize_header_sql(expression) -%}
    {{ return(adapter.dispatch("sigma_normalize_header_sql", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_normalize_header_sql(expression) -%}
    trim(regexp_replace(lower({{ expression }}), '[^a-z0-9]+', '_', 'g'), '_')
{%- endmacro %}

{% macro spark__sigma_normalize_header_sql(expression) -%}
    regexp_replace(regexp_replace(lower({{ expression }}), '[^a-z0-9]+', '_'), '^_+|_+$', '')
{%- endmacro %}

{#- One row per element of a list column (in a select list). -#}
{% macro sigma_unnest(expression) -%}
    {{ return(adapter.dispatch("sigma_unnest", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_unnest(expression) -%}
    unnest({{ expression }})
{%- endmacro %}

{% macro spark__sigma_unnest(expression) -%}
    explode({{ expression }})
{%- endmacro %}

{#- canonical column -> list of normalized aliases, in priority order, from the var. -#}
{% macro sigma_column_aliases() -%}
    {%- set configured = var("sigma_column_aliases") -%}
    {%- set aliases = {} -%}
    {%- for canonical in ["request_time", "user_email", "workbook_url_id", "element_id", "count"] -%}
        {%- if canonical not in configured -%}
            {{ exceptions.raise_compiler_error(
                "vars.sigma_column_aliases must list aliases for '" ~ canonical ~ "'") }}
        {%- endif -%}
        {%- set normalized = [] -%}
        {%- for alias in configured[canonical] -%}
            {%- do normalized.append(sigma_normalize_header(alias | string)) -%}
        {%- endfor -%}
        {%- do aliases.update({canonical: normalized}) -%}
    {%- endfor -%}
    {{ return(aliases) }}
{%- endmacro %}

{#- The raw column names of a relation, in table order: the relation's real columns, or
    var('sigma_raw_columns_override') when set (a list, or a comma separated string): dbt unit
    tests, whose inputs are CTEs, and sqlfluff, which must lint without a loaded database. -#}
{% macro sigma_raw_column_names(relation) -%}
    {%- set override = var("sigma_raw_columns_override", none) -%}
    {%- if override is not none -%}
        {%- if override is string -%}
            {#- from sqlfluff's [sqlfluff:templater:dbt:context]: comma separated -#}
            {{ return(override.split(",") | map("trim") | list) }}
        {%- endif -%}
        {{ return(override) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ exceptions.raise_compiler_error(
            relation ~ " does not exist: run `sigma-impressions load` first (it creates the raw tables), "
            ~ "or set vars.sigma_raw_schema to the schema the loader wrote") }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- canonical column -> the raw columns feeding it, in alias priority order, then table order. -#}
{% macro sigma_map_columns(column_names) -%}
    {%- set aliases = sigma_column_aliases() -%}
    {%- set metadata = sigma_raw_metadata_columns() -%}
    {%- set all_aliases = [] -%}
    {%- for alias_list in aliases.values() -%}
        {%- do all_aliases.extend(alias_list) -%}
    {%- endfor -%}
    {%- set lowered_names = column_names | map("lower") | list -%}
    {%- set by_normalized = {} -%}
    {%- for name in column_names if name | lower not in metadata -%}
        {%- set normalized = sigma_normalize_header(name) -%}
        {#- A header repeated in one file lands as <header>_<n> (DuckDB's de-duplication, see
            loader/csv_reader.py): it feeds the same canonical column, right after <header>. -#}
        {%- set repeated = modules.re.match("^(.+)_[0-9]+$", name) -%}
        {%- if repeated and normalized not in all_aliases and repeated.group(1) | lower in lowered_names -%}
            {%- set normalized = sigma_normalize_header(repeated.group(1)) -%}
        {%- endif -%}
        {%- do by_normalized.setdefault(normalized, []).append(name) -%}
    {%- endfor -%}
    {%- set mapping = {} -%}
    {%- for canonical, alias_list in aliases.items() -%}
        {%- set feeding = [] -%}
        {%- for alias in alias_list -%}
            {%- for name in by_normalized.get(alias, []) if name not in feeding -%}
                {%- do feeding.append(name) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do mapping.update({canonical: feeding}) -%}
    {%- endfor -%}
    {{ return(mapping) }}
{%- endmacro %}

{#- The SQL value of one canonical column: the first raw column that is not NULL and not
    blank after trimming, as written (staging trims and validates it). -#}
{% macro sigma_first_non_empty(raw_columns) -%}
    {%- if raw_columns | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        case
            {%- for name in raw_columns %}
            when {{ sigma_trim(sigma_quote(name)) }} <> '' then {{ sigma_quote(name) }}
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}

{#- Select list: every canonical column resolved from `relation`'s real columns, named
    <prefix><canonical> (NULL, and a line in the dbt log for a required one, when no raw column
    feeds it). -#}
{% macro sigma_resolve_columns(relation, prefix="raw_") -%}
    {%- set mapping = sigma_map_columns(sigma_raw_column_names(relation)) -%}
    {%- for canonical, raw_columns in mapping.items() %}
        {%- if execute and raw_columns | length == 0 and canonical in ["request_time", "user_email", "workbook_url_id"] %}
            {%- do log("sigma-impressions: no column of " ~ relation ~ " feeds the required column '"
                ~ canonical ~ "' (aliases: " ~ sigma_column_aliases()[canonical] | join(", ")
                ~ "); its rows are rejected as missing_" ~ canonical, info=true) %}
        {%- endif %}
        {{ sigma_first_non_empty(raw_columns) }} as {{ prefix }}{{ canonical }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A quoted identifier for any header text (quote characters inside the name doubled). -#}
{% macro sigma_quote(name) -%}
    {{ return(adapter.dispatch("sigma_quote", "sigma_impressions")(name)) }}
{%- endmacro %}

{% macro default__sigma_quote(name) -%}
    "{{ name | replace('"', '""') }}"
{%- endmacro %}

{% macro spark__sigma_quote(name) -%}
    `{{ name | replace('`', '``') }}`
{%- endmacro %}
