{#-
    The rules users set as vars, read and validated in one place (a value of the wrong kind fails
    the build with one line naming the var). The models apply them where they read them.
-#}

{#- vars.sigma_view_event_pattern or vars.sigma_success_status_pattern: a regular expression
    (RE2 on DuckDB, Java's on Spark: keep to their common syntax), as a SQL string literal. -#}
{% macro sigma_event_pattern(var_name) -%}
    {%- set pattern = var(var_name) -%}
    {%- if pattern is not string or (pattern | trim) == "" -%}
        {{ exceptions.raise_compiler_error("vars." ~ var_name ~ " must be a regular expression (text), got " ~ tojson(pattern)) }}
    {%- endif -%}
    {{ return(sigma_string_literal(pattern)) }}
{%- endmacro %}

{#- A var that must be a list of texts: its values. -#}
{% macro sigma_text_list(var_name) -%}
    {%- set values = var(var_name) -%}
    {%- if values is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if values is string or values is mapping or values is not iterable or (values | reject("string") | list) -%}
        {{ exceptions.raise_compiler_error("vars." ~ var_name ~ " must be a list of texts, e.g. ['x'], got " ~ tojson(values)) }}
    {%- endif -%}
    {{ return(values | list) }}
{%- endmacro %}

{#- vars.sigma_excluded_users as SQL LIKE patterns on the lower-cased email: each glob
    lower-cased, `\`, `%` and `_` escaped (with `\`), `*` (any run of characters) turned into `%`. -#}
{% macro sigma_excluded_user_patterns() -%}
    {%- set patterns = [] -%}
    {%- for glob in sigma_text_list("sigma_excluded_users") -%}
        {%- set escaped = glob | trim | lower | replace("\\", "\\\\") | replace("%", "\\%") | replace("_", "\\_") -%}
        {%- do patterns.append(sigma_string_literal(escaped | replace("*", "%"))) -%}
    {%- endfor -%}
    {{ return(patterns) }}
{%- endmacro %}

{#- True when `expression` is LIKE one of `patterns` (escape character `\`); false for none. -#}
{% macro sigma_like_any(expression, patterns) -%}
    ({%- for pattern in patterns %}{{ expression }} like {{ pattern }} escape {{ sigma_string_literal("\\") }} or {% endfor %}false)
{%- endmacro %}

{#- vars.sigma_excluded_member_types as lower-cased SQL string literals. -#}
{% macro sigma_excluded_member_types() -%}
    {%- set types = [] -%}
    {%- for member_type in sigma_text_list("sigma_excluded_member_types") -%}
        {%- do types.append(sigma_string_literal(member_type | trim | lower)) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{#- vars.sigma_exclude_owner_views: true or false. -#}
{% macro sigma_exclude_owner_views() -%}
    {%- set value = var("sigma_exclude_owner_views") -%}
    {%- if value is sameas true or value is sameas false -%}
        {{ return(value) }}
    {%- elif value is string and (value | trim | lower) in ("true", "false") -%}
        {{ return((value | trim | lower) == "true") }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("vars.sigma_exclude_owner_views must be true or false, got " ~ tojson(value)) }}
{%- endmacro %}

{#- vars.sigma_inventory_source: where the inventory comes from when no relation var is set. -#}
{% macro sigma_inventory_source() -%}
    {%- set source_name = var("sigma_inventory_source") -%}
    {%- if source_name not in ("sigma_api", "seeds") -%}
        {{ exceptions.raise_compiler_error("vars.sigma_inventory_source must be 'sigma_api' or 'seeds', got " ~ tojson(source_name)) }}
    {%- endif -%}
    {{ return(source_name) }}
{%- endmacro %}

{#- One kind of inventory (`name`: the seed and the sigma_raw table share it): the relation the var
    `relation_var` names when it is set, else the table the Sigma API sync writes
    (vars.sigma_inventory_source 'sigma_api') or the demo seed ('seeds'). -#}
{% macro sigma_inventory_relation(name, relation_var=none) -%}
    {%- set configured = sigma_relation_var(relation_var) if relation_var else none -%}
    {%- if configured is not none -%}
        {{ return(configured) }}
    {%- endif -%}
    {{ return(ref(name) if sigma_inventory_source() == 'seeds' else source('sigma_raw', name)) }}
{%- endmacro %}

{#- A relation named by a var ("schema.table" or "database.schema.table"); none when empty. -#}
{% macro sigma_relation_var(var_name) -%}
    {%- set configured = (var(var_name, "") or "") | string | trim -%}
    {%- set parts = configured.split(".") -%}
    {%- if configured == "" -%}
        {{ return(none) }}
    {%- elif parts | length == 2 -%}
        {{ return(api.Relation.create(database=target.database, schema=parts[0], identifier=parts[1])) }}
    {%- elif parts | length == 3 -%}
        {{ return(api.Relation.create(database=parts[0], schema=parts[1], identifier=parts[2])) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("vars." ~ var_name ~ " must be '', 'schema.table' or 'database.schema.table', got '" ~ configured ~ "'") }}
{%- endmacro %}

{#- `column` of `relation` when the relation has it, else NULL (optional inventory columns). -#}
{% macro sigma_optional_column(relation, column) -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute="name") | map("lower") | list if execute else [] -%}
    {{ column if column in names else "null" }}
{%- endmacro %}
