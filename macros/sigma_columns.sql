{#-
    Column resolution for the raw export table, Fivetran style: the loader lands one VARCHAR
    column per header spelling ever seen; these macros read the relation's real columns, normalize
    each name with the rule of `sigma-impressions check` (loader/contract.py), and emit every
    canonical column of vars.sigma_column_aliases as the first non-empty alias of the row. A
    canonical column no raw column feeds is NULL: its rows are then rejected (`missing_<column>`)
    and sigma_export_files names the missing column, so it never goes unnoticed.
-#}

{#- The canonical columns, required first. -#}
{% macro sigma_canonical_columns() -%}
    {{ return(["request_time", "user_email", "workbook_url_id", "element_id", "count", "event_name", "event_status"]) }}
{%- endmacro %}

{#- '\ufeff Workbook URL ID ' -> 'workbook_url_id': strip a BOM, trim, lowercase, runs of
    characters other than a-z0-9 -> '_', strip leading/trailing '_'. -#}
{% macro sigma_normalize_header(header) -%}
    {%- set text = (header | replace("\ufeff", "")).strip().lower() -%}
    {{ return(modules.re.sub("[^a-z0-9]+", "_", text).strip("_")) }}
{%- endmacro %}

{#- canonical column -> its normalized aliases in priority order, from the var. -#}
{% macro sigma_column_aliases() -%}
    {%- set configured = var("sigma_column_aliases") -%}
    {%- set aliases = {} -%}
    {%- for canonical in sigma_canonical_columns() -%}
        {%- if canonical not in configured -%}
            {{ exceptions.raise_compiler_error("vars.sigma_column_aliases must list aliases for '" ~ canonical ~ "'") }}
        {%- endif -%}
        {%- set normalized = [] -%}
        {%- for alias in configured[canonical] -%}
            {%- do normalized.append(sigma_normalize_header(alias | string)) -%}
        {%- endfor -%}
        {%- do aliases.update({canonical: normalized}) -%}
    {%- endfor -%}
    {{ return(aliases) }}
{%- endmacro %}

{#- The raw column names of `relation`, in table order (vars.sigma_raw_columns_override instead
    when set: dbt unit tests, whose inputs are CTEs, and sqlfluff, which lints without a database). -#}
{% macro sigma_raw_column_names(relation) -%}
    {%- set override = var("sigma_raw_columns_override", none) -%}
    {%- if override is not none -%}
        {{ return(override.split(",") | map("trim") | list if override is string else override) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ exceptions.raise_compiler_error(
            relation ~ " does not exist: run `sigma-impressions load` first (it creates the raw tables), "
            ~ "or set vars.sigma_raw_schema to the schema the loader wrote") }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute="name") | list) }}
{%- endmacro %}

{#- canonical column -> the raw columns feeding it, in alias order, then table order. A header
    repeated in one file lands as <header>_<n> (loader/csv_reader.py) and feeds what <header> feeds. -#}
{% macro sigma_map_columns(column_names) -%}
    {%- set aliases = sigma_column_aliases() -%}
    {%- set metadata = ["_file_uri", "_file_row_number", "_loaded_at", "_integration_name"] -%}
    {%- set all_aliases = [] -%}
    {%- for alias_list in aliases.values() -%}
        {%- do all_aliases.extend(alias_list) -%}
    {%- endfor -%}
    {%- set lowered_names = column_names | map("lower") | list -%}
    {%- set by_normalized = {} -%}
    {%- for name in column_names if name | lower not in metadata -%}
        {%- set normalized = sigma_normalize_header(name) -%}
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

{#- Select list: every canonical column of `relation`, named raw_<canonical>: the first raw column
    feeding it that is neither NULL nor blank after trimming, as written; NULL when none. -#}
{% macro sigma_resolve_columns(relation) -%}
    {%- for canonical, raw_columns in sigma_map_columns(sigma_raw_column_names(relation)).items() %}
        {%- if raw_columns %}
        case
            {%- for name in raw_columns %}
            when {{ sigma_trim(sigma_quote(name)) }} <> '' then {{ sigma_quote(name) }}
            {%- endfor %}
        end as raw_{{ canonical }}{{ "," if not loop.last }}
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as raw_{{ canonical }}{{ "," if not loop.last }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- True when one of the `headers` (a list column of header texts) feeds `canonical`. -#}
{% macro sigma_headers_feed(headers, canonical) -%}
    {%- set aliases = "'" ~ (sigma_column_aliases()[canonical] | join("', '")) ~ "'" -%}
    {{ return(adapter.dispatch("sigma_headers_feed", "sigma_impressions")(headers, aliases)) }}
{%- endmacro %}

{% macro default__sigma_headers_feed(headers, aliases) -%}
    coalesce(len(list_filter({{ headers }}, header -> {{ sigma_normalize_header_sql("header") }} in ({{ aliases }}))) > 0, false)
{%- endmacro %}

{% macro spark__sigma_headers_feed(headers, aliases) -%}
    coalesce(exists({{ headers }}, header -> {{ sigma_normalize_header_sql("header") }} in ({{ aliases }})), false)
{%- endmacro %}

{#- The header rule in SQL (the loader's header reader strips BOMs). -#}
{% macro sigma_normalize_header_sql(expression) -%}
    {{ return(adapter.dispatch("sigma_normalize_header_sql", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_normalize_header_sql(expression) -%}
    trim(regexp_replace(lower({{ expression }}), '[^a-z0-9]+', '_', 'g'), '_')
{%- endmacro %}

{% macro spark__sigma_normalize_header_sql(expression) -%}
    regexp_replace(regexp_replace(lower({{ expression }}), '[^a-z0-9]+', '_'), '^_+|_+$', '')
{%- endmacro %}

{#- A quoted identifier for any header text. -#}
{% macro sigma_quote(name) -%}
    {{ return(adapter.dispatch("sigma_quote", "sigma_impressions")(name)) }}
{%- endmacro %}

{% macro default__sigma_quote(name) -%}
    "{{ name | replace('"', '""') }}"
{%- endmacro %}

{% macro spark__sigma_quote(name) -%}
    `{{ name | replace('`', '``') }}`
{%- endmacro %}
