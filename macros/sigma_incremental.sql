{#-
    The one incremental pattern of the file-driven models (staging rows, per-file groups, the
    deduplicated events, the daily rollup). Every row carries the parse signature it was built
    with; most carry the file version it came from (_file_uri, _loaded_at).

    - sigma_incremental_rebuild_all(): this run builds every row (a full build or refresh, or the
      table holds rows of another parse signature: aliases extended, parsing rules changed).
    - sigma_rows_of_new_file_versions(rows): otherwise only the rows of file versions the table
      does not hold yet (new files, and the new version of a changed file); delete+insert on
      _file_uri then replaces that file's earlier rows.
    - sigma_delete_stale_rows(...): the post-hook; drops rows of another parse signature and rows
      of file versions that are no longer the landed one (changed to nothing, failed, gone).
    - sigma_incremental_materialization(): `incremental` where the engine can delete rows; a full
      rebuild (`table`) on Spark's plain Parquet tables, which cannot delete or merge rows (Delta or
      Iceberg tables could). Both give the same rows: the incremental models equal a full refresh,
      and the post-hooks, which only clean up after incremental runs, render to nothing on a table.
-#}

{% macro sigma_incremental_materialization() -%}
    {{ return(adapter.dispatch("sigma_incremental_materialization", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_incremental_materialization() -%}
    {{ return("incremental") }}
{%- endmacro %}

{% macro spark__sigma_incremental_materialization() -%}
    {{ return("table") }}
{%- endmacro %}

{#- A post-hook statement that runs only on incremental models ('' otherwise: dbt skips it). -#}
{% macro sigma_incremental_hook(statement) -%}
    {{ return(statement if model.config.materialized == "incremental" else "") }}
{%- endmacro %}

{% macro sigma_incremental_rebuild_all() -%}
    {{ return(not is_incremental() or sigma_parse_signature_changed(this)) }}
{%- endmacro %}

{#- A select of the rows of `rows` (a CTE reading `relation`, both with _file_uri and
    _loaded_at) to build in this run: all of them when rebuilding, else those of file versions
    not in this table yet. The new versions (a few) are found first and written in as literals
    (sigma_query_literals), so the engine joins the rows with a list it knows is short and reads
    only those rows; with a subquery it could not know, and built its join over every row. -#}
{% macro sigma_rows_of_new_file_versions(rows, relation) -%}
    {%- if sigma_incremental_rebuild_all() -%}
    select * from {{ rows }}
    {%- else -%}
    {%- set versions_query -%}
        select distinct
            _file_uri,
            _loaded_at
        from {{ relation }}
        except
        select distinct
            _file_uri,
            _loaded_at
        from {{ this }}
    {%- endset -%}
    select candidate_rows.*
    from {{ rows }} as candidate_rows
    inner join (
        {{ sigma_literal_relation(versions_query, [("_file_uri", dbt.type_string()), ("_loaded_at", dbt.type_timestamp())]) }}
    ) as new_versions
        on
            candidate_rows._file_uri = new_versions._file_uri
            and candidate_rows._loaded_at = new_versions._loaded_at
    {%- endif -%}
{%- endmacro %}

{#- The rows of `query` as SQL literals, run when the model runs (none while compiling, and in a
    unit test, whose inputs are fixtures only the model's own query can read). -#}
{% macro sigma_query_literals(query) -%}
    {%- if not execute or model.resource_type == "unit_test" -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- set literals = [] -%}
        {%- for value in row -%}
            {%- do literals.append(sigma_sql_literal(value)) -%}
        {%- endfor -%}
        {%- do rows.append(literals) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{#- A value returned by a query as a SQL literal: NULL, a number, a timestamp, a date or a string. -#}
{% macro sigma_sql_literal(value) -%}
    {%- if value is none -%}
        {{ return("null") }}
    {%- elif value is number -%}
        {{ return(value | string) }}
    {%- elif value.hour is defined -%}
        {{ return(sigma_timestamp_value(value)) }}
    {%- elif value.year is defined -%}
        {{ return("cast('" ~ value.strftime("%Y-%m-%d") ~ "' as date)") }}
    {%- else -%}
        {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- A relation with `columns` ([(name, type), ...]) holding the rows of `query`: its rows as
    literals when the model runs (sigma_query_literals, sigma_values_relation), else the query
    itself. -#}
{% macro sigma_literal_relation(query, columns) -%}
    {%- set rows = sigma_query_literals(query) -%}
    {{ query if rows is none else sigma_values_relation(rows, columns) }}
{%- endmacro %}

{#- A relation with `columns` ([(name, type), ...]) holding `rows` (lists of SQL literals, as
    sigma_query_literals returns them); no row: an empty select. -#}
{% macro sigma_values_relation(rows, columns) -%}
    {%- if not rows -%}
        select
        {%- for column in columns %}
            cast(null as {{ column[1] }}) as {{ column[0] }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- else -%}
        select
        {%- for column in columns %}
            cast({{ column[0] }} as {{ column[1] }}) as {{ column[0] }}{{ "," if not loop.last }}
        {%- endfor %}
        from (
            values
            {%- for row in rows %}
            ({{ row | join(", ") }}){{ "," if not loop.last }}
            {%- endfor %}
        ) as literal_rows ({{ columns | map(attribute=0) | join(", ") }})
    {%- endif -%}
{%- endmacro %}

{#- Post-hook SQL: delete this table's rows built with another parse signature, and (when
    `versions` is given) the rows whose (_file_uri, _loaded_at) is not a row of `versions`
    (a relation with `uri_column` and `loaded_at_column`, filtered by `versions_filter`).
    `rows_filter` limits the version check to some rows (e.g. rows that have a file). -#}
{% macro sigma_delete_stale_rows(versions=none, uri_column="file_uri", loaded_at_column="loaded_at", versions_filter=none, rows_filter=none) -%}
    {%- if model.config.materialized != "incremental" -%}
        {{ return("") }}
    {%- endif -%}
    delete from {{ this }}
    where
        _parse_signature <> '{{ sigma_parse_signature() }}'
        {%- if versions is not none %}
        or (
            {{ rows_filter if rows_filter else "true" }}
            and not exists (
                select 1
                from {{ versions }} as file_versions
                where
                    {{ versions_filter ~ " and" if versions_filter }}
                    file_versions.{{ uri_column }} = {{ this.identifier }}._file_uri
                    and file_versions.{{ loaded_at_column }} = {{ this.identifier }}._loaded_at
            )
        )
        {%- endif %}
{%- endmacro %}

{#- The start time of this dbt invocation (UTC) as a timestamp literal: stamps the rows an
    incremental run (re)computes, so the models downstream find what changed. -#}
{% macro sigma_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The UTC days a day-grained incremental model (the daily rollup and what is built per day
    from it) recomputes in this run, as a select of impression_date. `events` is the
    deduplicated event relation (a relation, not a CTE: the days are found by a query of their own). Rebuilding: every day with an event row. Otherwise the days
    holding an event row (a removal row too) recomputed after this table's latest
    _deduplicated_at, and the days this table holds that no event row has any more (the event
    table was rebuilt on its own), found first and written in as literals
    (sigma_literal_relation). Models with the same watermark column recompute the same days, and
    a model that missed a run catches up on its next one (its watermark did not advance). -#}
{% macro sigma_changed_days(events) -%}
    {%- if sigma_incremental_rebuild_all() -%}
    select distinct impression_date
    from {{ events }}
    {%- else -%}
    {%- set days_query -%}
        select distinct changed_events.impression_date
        from {{ events }} as changed_events
        where changed_events._deduplicated_at > (
            select coalesce(max(built_rows._deduplicated_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
            from {{ this }} as built_rows
        )
        union
        select distinct orphaned_rows.impression_date
        from {{ this }} as orphaned_rows
        where orphaned_rows.impression_date not in (select distinct all_events.impression_date from {{ events }} as all_events)
    {%- endset -%}
    {{ sigma_literal_relation(days_query, [("impression_date", "date")]) }}
    {%- endif -%}
{%- endmacro %}

{#- The incremental deduplication's inputs, read from its own table (`relation`) when the model
    runs, as SQL literals: `loaded_since`, the latest _loaded_at of a winning row (1900-01-01 when
    none), and `stale_versions`, the (file URI, loaded_at) pairs winning a row here that are no
    longer a landed version in `loaded_files` (stg_sigma__loaded_files), usually none. -#}
{% macro sigma_dedup_recompute(relation, loaded_files) -%}
    {%- set latest_query -%}
        select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
        from {{ relation }}
        where not is_removed
    {%- endset -%}
    {%- set stale_query -%}
        select distinct
            winners._file_uri,
            winners._loaded_at
        from {{ relation }} as winners
        where
            not winners.is_removed
            and not exists (
                select 1
                from {{ loaded_files }} as file_versions
                where
                    file_versions.is_loaded
                    and file_versions.file_uri = winners._file_uri
                    and file_versions.loaded_at = winners._loaded_at
            )
        order by 1, 2
    {%- endset -%}
    {%- set latest = sigma_query_literals(latest_query) -%}
    {%- if latest is none -%}
        {{ return({"loaded_since": sigma_timestamp_value(none), "stale_versions": []}) }}
    {%- endif -%}
    {{ return({"loaded_since": latest[0][0], "stale_versions": sigma_query_literals(stale_query)}) }}
{%- endmacro %}

{#- A Python datetime from a query as a SQL timestamp literal (NULL: 1900-01-01, before any row). -#}
{% macro sigma_timestamp_value(value) -%}
    {%- set text = "1900-01-01 00:00:00.000000" if value is none else value.strftime("%Y-%m-%d %H:%M:%S.%f") -%}
    {{ return("cast('" ~ text ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{#- The marker rows of a delete+insert incremental model: one per key of `keys` (a CTE) that this
    run recomputes, in the model's column order (`columns`, [(name, type), ...]): a column whose
    type is none is the key, read from `keys`; every other column is NULL. The delete+insert on
    the key then also clears a key left without any row; the model's post-hook drops the markers
    (they are the rows where a never-NULL column is NULL). -#}
{% macro sigma_marker_rows(keys, columns) -%}
    select
        {%- for column in columns %}
        {{ column[0] if column[1] is none else "cast(null as " ~ column[1] ~ ") as " ~ column[0] }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ keys }}
{%- endmacro %}
