{#-
    SQL that differs between engines, one name each (adapter.dispatch): the models call these and
    hold nothing engine-specific themselves.
-#}

{#- A SQL string literal of `text`. Spark unescapes backslashes inside literals. -#}
{% macro sigma_string_literal(text) -%}
    {{ return(adapter.dispatch("sigma_string_literal", "sigma_impressions")(text)) }}
{%- endmacro %}

{% macro default__sigma_string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sigma_string_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- Case-insensitive regular expression: `pattern` (a string literal) found anywhere in `text`,
    or (full=true) matching all of it. NULL text gives NULL. -#}
{% macro sigma_regexp_matches(text, pattern, full=false) -%}
    {{ return(adapter.dispatch("sigma_regexp_matches", "sigma_impressions")(text, pattern, full)) }}
{%- endmacro %}

{% macro default__sigma_regexp_matches(text, pattern, full) -%}
    {{ "regexp_full_match" if full else "regexp_matches" }}({{ text }}, {{ pattern }}, 'i')
{%- endmacro %}

{% macro spark__sigma_regexp_matches(text, pattern, full) -%}
    ({{ text }} rlike concat({{ "'(?i)^(?:', " if full else "'(?i)', " }}{{ pattern }}{{ ", ')$'" if full else "" }}))
{%- endmacro %}

{#- Sum as BIGINT, 0 when there are no values, saturating at the BIGINT maximum (one count may be
    the maximum itself). -#}
{% macro sigma_sum_bigint(expression) -%}
    {{ return(adapter.dispatch("sigma_sum_bigint", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_sum_bigint(expression) -%}
    cast(least(coalesce(sum(cast({{ expression }} as decimal(38, 0))), 0), 9223372036854775807) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- DuckDB sums BIGINT into a 128-bit HUGEINT already (a DECIMAL cast per row costs as much as the sum). -#}
{% macro duckdb__sigma_sum_bigint(expression) -%}
    cast(least(coalesce(sum({{ expression }}), 0), 9223372036854775807) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- The `used` list's type: {user_email, impressions, last_impression_at} structs. -#}
{% macro sigma_used_type() -%}
    {{ return(adapter.dispatch("sigma_used_type", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_used_type() -%}
    struct(user_email varchar, impressions bigint, last_impression_at timestamp)[]
{%- endmacro %}

{% macro spark__sigma_used_type() -%}
    array<struct<user_email: string, impressions: bigint, last_impression_at: timestamp>>
{%- endmacro %}

{#- Aggregate: the `used` list of the rows, in no particular order (sigma_sort_used_list sorts it). -#}
{% macro sigma_used_list(user_email, impressions, last_impression_at) -%}
    {{ return(adapter.dispatch("sigma_used_list", "sigma_impressions")(user_email, impressions, last_impression_at)) }}
{%- endmacro %}

{% macro default__sigma_used_list(user_email, impressions, last_impression_at) -%}
    list(struct_pack(
        user_email := {{ user_email }},
        impressions := {{ impressions }},
        last_impression_at := {{ last_impression_at }}
    ))
{%- endmacro %}

{% macro spark__sigma_used_list(user_email, impressions, last_impression_at) -%}
    collect_list(named_struct(
        'user_email', {{ user_email }},
        'impressions', {{ impressions }},
        'last_impression_at', {{ last_impression_at }}
    ))
{%- endmacro %}

{#- A `used` list ordered by impressions (desc) then user_email: each entry led by its sort keys,
    sorted, then the entry alone. -#}
{% macro sigma_sort_used_list(used) -%}
    {{ return(adapter.dispatch("sigma_sort_used_list", "sigma_impressions")(used)) }}
{%- endmacro %}

{% macro default__sigma_sort_used_list(used) -%}
    list_transform(
        list_sort(list_transform({{ used }}, entry -> struct_pack(
            sort_key := -entry.impressions, user_email := entry.user_email, entry := entry
        ))),
        keyed -> keyed.entry
    )
{%- endmacro %}

{% macro spark__sigma_sort_used_list(used) -%}
    transform(
        sort_array(transform({{ used }}, entry -> named_struct(
            'sort_key', -entry.impressions, 'user_email', entry.user_email, 'entry', entry
        ))),
        keyed -> keyed.entry
    )
{%- endmacro %}

{% macro sigma_empty_used_list() -%}
    {{ return(adapter.dispatch("sigma_empty_used_list", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_empty_used_list() -%}
    cast([] as {{ sigma_used_type() }})
{%- endmacro %}

{% macro spark__sigma_empty_used_list() -%}
    cast(array() as {{ sigma_used_type() }})
{%- endmacro %}

{#- An 8-byte floating point type (dbt.type_float() is 4 bytes on DuckDB). -#}
{% macro sigma_type_double() -%}
    {{ return(adapter.dispatch("sigma_type_double", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_type_double() -%}
    double
{%- endmacro %}
