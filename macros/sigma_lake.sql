{#-
    Sources from the Parquet lake that `sigma-impressions load --lake-uri` writes (layout: README,
    "The Parquet lake"). var('sigma_lake_uri') (default: the environment variable
    SIGMA_IMPRESSIONS_LAKE_URI) names the lake; when set, sigma_lake_sources() (on-run-start)
    creates the three raw relations of var('sigma_raw_schema') as views over the lake:

    - loaded_files: the manifest row of the latest commit per export file;
    - impression_rows: the records of the data files those rows name, and only those (files a
      writer left without committing, or replaced versions, are never read), one column per
      distinct header spelling (compared case-insensitively, first spelling and first appearance
      win, as the DuckDB landing adds columns), NULL where a file lacked it;
    - rejected_lines: the rejected records of the same versions.

    The spark target always reads the lake; the duckdb target reads it when the var is set (one
    lake serves both engines), else the tables the loader landed in the DuckDB file.
-#}

{#- The lake root without a trailing '/', '' when none is configured. -#}
{% macro sigma_lake_uri() -%}
    {%- set configured = var("sigma_lake_uri", "") -%}
    {%- set configured = "" if configured is none else (configured | string | trim) -%}
    {{ return(configured.rstrip("/")) }}
{%- endmacro %}

{#- The lake root as the engine's file system spells it. -#}
{% macro sigma_lake_engine_uri() -%}
    {{ return(adapter.dispatch("sigma_lake_engine_uri", "sigma_impressions")(sigma_lake_uri())) }}
{%- endmacro %}

{% macro default__sigma_lake_engine_uri(lake) -%}
    {{ return(lake) }}
{%- endmacro %}

{#- Hadoop's S3 connector is s3a:// (EMR and Databricks read s3a:// as well). -#}
{% macro spark__sigma_lake_engine_uri(lake) -%}
    {{ return("s3a://" ~ lake[5:] if lake.startswith("s3://") else lake) }}
{%- endmacro %}

{#- DuckDB reads local paths, s3:// and gs:// (httpfs). -#}
{% macro duckdb__sigma_lake_engine_uri(lake) -%}
    {{ return(lake[7:] if lake.startswith("file://") else lake) }}
{%- endmacro %}

{#- A relation over the Parquet objects `paths` (full engine paths). -#}
{% macro sigma_lake_scan(paths) -%}
    {{ return(adapter.dispatch("sigma_lake_scan", "sigma_impressions")(paths)) }}
{%- endmacro %}

{% macro default__sigma_lake_scan(paths) -%}
    {{ exceptions.raise_compiler_error(
        "sigma_lake_scan: no portable SQL reads Parquet files; add " ~ adapter.type() ~ "__sigma_lake_scan") }}
{%- endmacro %}

{#- One Hadoop glob: {a,b,c} alternatives inside the folder, so only the named objects are opened. -#}
{% macro spark__sigma_lake_scan(paths) -%}
    {%- set folder = paths[0].rsplit("/", 1)[0] -%}
    {%- set names = [] -%}
    {%- for path in paths -%}
        {%- if path.rsplit("/", 1)[0] != folder -%}
            {{ exceptions.raise_compiler_error("sigma_lake_scan: objects of one scan must share a folder") }}
        {%- endif -%}
        {%- do names.append(path.rsplit("/", 1)[1]) -%}
    {%- endfor -%}
    {%- set glob = folder ~ "/" ~ (names[0] if names | length == 1 else "{" ~ names | join(",") ~ "}") -%}
    parquet.`{{ glob | replace("`", "``") }}`
{%- endmacro %}

{% macro duckdb__sigma_lake_scan(paths) -%}
    read_parquet([{%- for path in paths -%}'{{ path | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%}])
{%- endmacro %}

{#- The manifest log (every commit object). -#}
{% macro sigma_lake_manifest_log() -%}
    {{ return(adapter.dispatch("sigma_lake_manifest_log", "sigma_impressions")(sigma_lake_engine_uri() ~ "/_manifest")) }}
{%- endmacro %}

{% macro spark__sigma_lake_manifest_log(folder) -%}
    parquet.`{{ folder | replace("`", "``") }}/[0-9]*.parquet`
{%- endmacro %}

{% macro duckdb__sigma_lake_manifest_log(folder) -%}
    read_parquet('{{ folder | replace("'", "''") }}/[0-9]*.parquet')
{%- endmacro %}

{#- A list column as JSON text (read back into Jinja with fromjson). -#}
{% macro sigma_json_text(expression) -%}
    {{ return(adapter.dispatch("sigma_json_text", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_json_text(expression) -%}
    to_json({{ expression }})
{%- endmacro %}

{% macro duckdb__sigma_json_text(expression) -%}
    cast(to_json({{ expression }}) as varchar)
{%- endmacro %}

{#- The manifest rows readers see: the latest commit's row per export file. -#}
{% macro sigma_lake_current_entries() -%}
    select * from (
        select
            manifest_log.*,
            row_number() over (partition by manifest_log.file_uri order by manifest_log.commit_id desc) as entry_rank
        from {{ sigma_lake_manifest_log() }} as manifest_log
    ) as ranked_entries
    where entry_rank = 1
{%- endmacro %}

{% macro sigma_lake_create_view(name, sql) -%}
    {%- set relation = api.Relation.create(schema=var("sigma_raw_schema", "sigma_raw"), identifier=name, type="view") -%}
    {%- do run_query(sigma_lake_create_view_sql(relation, sql)) -%}
{%- endmacro %}

{% macro sigma_lake_create_view_sql(relation, sql) -%}
    {{ return(adapter.dispatch("sigma_lake_create_view_sql", "sigma_impressions")(relation, sql)) }}
{%- endmacro %}

{% macro default__sigma_lake_create_view_sql(relation, sql) -%}
    create or replace view {{ relation }} as {{ sql }}
{%- endmacro %}

{#- on-run-start: (re)create the raw relations over the lake's committed files. -#}
{% macro sigma_lake_sources() -%}
    {%- if not execute -%}
        {{ return("") }}
    {%- endif -%}
    {%- if sigma_lake_uri() == "" -%}
        {%- if target.type == "spark" -%}
            {{ exceptions.raise_compiler_error(
                "the spark target reads the Parquet lake: set SIGMA_IMPRESSIONS_LAKE_URI (or vars.sigma_lake_uri) "
                ~ "to the --lake-uri that `sigma-impressions load` wrote") }}
        {%- endif -%}
        {{ return("") }}
    {%- endif -%}
    {%- set lake = sigma_lake_engine_uri() -%}
    {%- set string = dbt.type_string() -%}
    {%- set entries_sql -%}
        select
            commit_id,
            file_uri,
            {{ sigma_json_text("columns") }} as columns_json,
            rows_file,
            rejects_file
        from ({{ sigma_lake_current_entries() }}) as current_entries
        where status = 'loaded'
        order by commit_id, file_uri
    {%- endset -%}
    {%- set entries = run_query(entries_sql) -%}

    {#- The union of the columns, case-insensitively, in order of first appearance. -#}
    {%- set union_columns = [] -%}
    {%- set seen = [] -%}
    {%- set groups = {} -%}
    {%- set group_order = [] -%}
    {%- set reject_paths = [] -%}
    {%- for entry in entries.rows -%}
        {%- if entry["rows_file"] -%}
            {%- set columns = fromjson(entry["columns_json"]) -%}
            {%- for column in columns if column | lower not in seen -%}
                {%- do seen.append(column | lower) -%}
                {%- do union_columns.append(column) -%}
            {%- endfor -%}
            {%- set key = tojson(columns) -%}
            {%- if key not in groups -%}
                {%- do groups.update({key: []}) -%}
                {%- do group_order.append(key) -%}
            {%- endif -%}
            {%- do groups[key].append(lake ~ "/" ~ entry["rows_file"]) -%}
        {%- endif -%}
        {%- if entry["rejects_file"] -%}
            {%- do reject_paths.append(lake ~ "/" ~ entry["rejects_file"]) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set rows_sql -%}
        {%- for key in group_order %}
        {%- set by_lower = {} -%}
        {%- for column in fromjson(key) -%}
            {%- do by_lower.update({column | lower: column}) -%}
        {%- endfor %}
        select
            cast(_file_uri as {{ string }}) as _file_uri,
            cast(_file_row_number as {{ dbt.type_bigint() }}) as _file_row_number,
            cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at,
            cast(_integration_name as {{ string }}) as _integration_name
            {%- for column in union_columns %},
            {% if column | lower in by_lower -%}
                cast({{ sigma_quote(by_lower[column | lower]) }} as {{ string }})
            {%- else -%}
                cast(null as {{ string }})
            {%- endif %} as {{ sigma_quote(column) }}
            {%- endfor %}
        from {{ sigma_lake_scan(groups[key]) }}
        {{ "union all" if not loop.last }}
        {%- else %}
        select
            cast(null as {{ string }}) as _file_uri,
            cast(null as {{ dbt.type_bigint() }}) as _file_row_number,
            cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
            cast(null as {{ string }}) as _integration_name
        where 1 = 0
        {%- endfor %}
    {%- endset -%}

    {%- set rejects_sql -%}
        {%- if reject_paths %}
        select
            cast(_file_uri as {{ string }}) as _file_uri,
            cast(line_number as {{ dbt.type_bigint() }}) as line_number,
            cast(error as {{ string }}) as error,
            cast(raw_text as {{ string }}) as raw_text,
            cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at,
            cast(_integration_name as {{ string }}) as _integration_name
        from {{ sigma_lake_scan(reject_paths) }}
        {%- else %}
        select
            cast(null as {{ string }}) as _file_uri,
            cast(null as {{ dbt.type_bigint() }}) as line_number,
            cast(null as {{ string }}) as error,
            cast(null as {{ string }}) as raw_text,
            cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
            cast(null as {{ string }}) as _integration_name
        where 1 = 0
        {%- endif %}
    {%- endset %}

    {%- set files_sql -%}
        select
            cast(file_uri as {{ string }}) as file_uri,
            cast(etag as {{ string }}) as etag,
            cast(size_bytes as {{ dbt.type_bigint() }}) as size_bytes,
            cast(last_modified as {{ dbt.type_timestamp() }}) as last_modified,
            headers,
            cast(rows_loaded as {{ dbt.type_bigint() }}) as rows_loaded,
            cast(rows_rejected as {{ dbt.type_bigint() }}) as rows_rejected,
            cast(status as {{ string }}) as status,
            cast(error as {{ string }}) as error,
            cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
            cast(integration_name as {{ string }}) as integration_name
        from ({{ sigma_lake_current_entries() }}) as current_entries
    {%- endset -%}

    {%- do run_query("create schema if not exists " ~ var("sigma_raw_schema", "sigma_raw")) -%}
    {%- do sigma_lake_create_view("loaded_files", files_sql) -%}
    {%- do sigma_lake_create_view("impression_rows", rows_sql) -%}
    {%- do sigma_lake_create_view("rejected_lines", rejects_sql) -%}
    {{ return("") }}
{%- endmacro %}

{#- Marts published as views on DuckDB (no copy: a run costs nothing there) are Parquet tables
    on Spark, so that every mart has its files at <lake>/marts/<mart>/ for any engine to read. -#}
{% macro sigma_published_view_materialization() -%}
    {{ return(adapter.dispatch("sigma_published_view_materialization", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_published_view_materialization() -%}
    {{ return("view") }}
{%- endmacro %}

{% macro spark__sigma_published_view_materialization() -%}
    {{ return("table") }}
{%- endmacro %}
