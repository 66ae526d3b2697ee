{#-
    The Euno-style `used` breakdown: a list of structs {user_email, impressions,
    last_impression_at}, ordered by impressions (desc) then user_email. Aggregates rows holding
    those three columns; sigma_empty_used_list is the typed empty list for resources without
    users. There is no portable SQL for a list of structs: the default__ versions stop with what
    to add for a new adapter (for example array_agg(object_construct(...)) on Snowflake).
-#}
{% macro sigma_used_type() -%}
    {{ return(adapter.dispatch("sigma_used_type", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_used_type() -%}
    {{ exceptions.raise_compiler_error(
        "sigma_used_type: no portable SQL type for a list of structs; add " ~ adapter.type() ~ "__sigma_used_type") }}
{%- endmacro %}

{% macro duckdb__sigma_used_type() -%}
    struct(user_email varchar, impressions bigint, last_impression_at timestamp)[]
{%- endmacro %}

{% macro spark__sigma_used_type() -%}
    array<struct<user_email: string, impressions: bigint, last_impression_at: timestamp>>
{%- endmacro %}

{#- The list over the rows where `condition` holds (all rows when none); NULL when there is none. -#}
{% macro sigma_used_list(user_email, impressions, last_impression_at, condition=none) -%}
    {{ return(adapter.dispatch("sigma_used_list", "sigma_impressions")(user_email, impressions, last_impression_at, condition)) }}
{%- endmacro %}

{% macro default__sigma_used_list(user_email, impressions, last_impression_at, condition=none) -%}
    {{ exceptions.raise_compiler_error(
        "sigma_used_list: no portable SQL for a list of structs; add " ~ adapter.type() ~ "__sigma_used_list") }}
{%- endmacro %}

{#- DuckDB: an unordered list sorted afterwards (by -impressions, then user_email), not
    array_agg(... order by ...): an ordered aggregate buffers every input row and cannot spill,
    which runs out of memory under memory_limit on a large history. -#}
{% macro duckdb__sigma_used_list(user_email, impressions, last_impression_at, condition=none) -%}
    list_transform(
        list_sort(
            list(
                struct_pack(
                    sort_key := -{{ impressions }},
                    user_email := {{ user_email }},
                    impressions := {{ impressions }},
                    last_impression_at := {{ last_impression_at }}
                )
            ){{ " filter (where " ~ condition ~ ")" if condition }}
        ),
        used_entry -> struct_pack(
            user_email := used_entry.user_email,
            impressions := used_entry.impressions,
            last_impression_at := used_entry.last_impression_at
        )
    )
{%- endmacro %}

{#- Spark has no ordered collect_list: sort structs led by (-impressions, user_email), then drop
    the sort key (impressions is at most the BIGINT maximum, so its negation never overflows). -#}
{% macro spark__sigma_used_list(user_email, impressions, last_impression_at, condition=none) -%}
    {#- collect_list skips NULLs: rows outside `condition` become NULL. -#}
    transform(
        sort_array(
            collect_list(
                {{ "case when " ~ condition ~ " then " if condition }}named_struct(
                    'negated_impressions', -{{ impressions }},
                    'user_email', {{ user_email }},
                    'entry', named_struct(
                        'user_email', {{ user_email }},
                        'impressions', {{ impressions }},
                        'last_impression_at', {{ last_impression_at }}
                    )
                ){{ " end" if condition }}
            )
        ),
        sorted_entry -> sorted_entry.entry
    )
{%- endmacro %}

{% macro sigma_empty_used_list() -%}
    {{ return(adapter.dispatch("sigma_empty_used_list", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_empty_used_list() -%}
    {{ exceptions.raise_compiler_error(
        "sigma_empty_used_list: no portable SQL for an empty list; add " ~ adapter.type() ~ "__sigma_empty_used_list") }}
{%- endmacro %}

{% macro duckdb__sigma_empty_used_list() -%}
    cast([] as {{ sigma_used_type() }})
{%- endmacro %}

{% macro spark__sigma_empty_used_list() -%}
    cast(array() as {{ sigma_used_type() }})
{%- endmacro %}

{#- How many batches of workbooks the `used` lists are built in: 1 where the engine spills its
    list aggregates (Spark sorts and spills them). DuckDB builds list aggregates in memory, so
    a history with millions of (resource, user) pairs would need more than memory_limit in one
    aggregate: its lists are built in batches of about vars.sigma_used_list_batch_rows rows of
    `rows` (int_sigma__resource_users, one row per resource and user; default 1,000,000), each
    batch a separate aggregate over the workbooks whose hash falls in it. Counted when the
    model runs. -#}
{% macro sigma_used_list_batches(rows) -%}
    {{ return(adapter.dispatch("sigma_used_list_batches", "sigma_impressions")(rows)) }}
{%- endmacro %}

{% macro default__sigma_used_list_batches(rows) -%}
    {{ return(1) }}
{%- endmacro %}

{% macro duckdb__sigma_used_list_batches(rows) -%}
    {#- Nothing to count while compiling, or in a unit test (the input is a fixture CTE). -#}
    {%- if not execute or rows.schema is none or load_relation(rows) is none -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set batch_rows = var("sigma_used_list_batch_rows", 1000000) | int -%}
    {%- if batch_rows < 1 -%}
        {{ exceptions.raise_compiler_error("vars.sigma_used_list_batch_rows must be a positive number of rows, got " ~ var("sigma_used_list_batch_rows")) }}
    {%- endif -%}
    {%- set window_rows = run_query("select count(*) from " ~ rows).columns[0].values()[0] | int -%}
    {{ return([1, ((window_rows + batch_rows - 1) // batch_rows)] | max) }}
{%- endmacro %}

{#- True for the rows whose `key` falls in batch `batch` of `batches` (a stable hash). -#}
{% macro sigma_batch_predicate(key, batch, batches) -%}
    {{ return(adapter.dispatch("sigma_batch_predicate", "sigma_impressions")(key, batch, batches)) }}
{%- endmacro %}

{% macro default__sigma_batch_predicate(key, batch, batches) -%}
    (mod(abs(hash({{ key }})), {{ batches }}) = {{ batch }})
{%- endmacro %}

{% macro duckdb__sigma_batch_predicate(key, batch, batches) -%}
    (hash({{ key }}) % {{ batches }} = {{ batch }})
{%- endmacro %}
