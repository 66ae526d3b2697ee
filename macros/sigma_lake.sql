{#- Sources from the Parquet lake `sigma-impressions load --lake-uri` writes (docs/lake-and-spark.md, "The lake layout"),
    named by var('sigma_lake_uri') (default: SIGMA_IMPRESSIONS_LAKE_URI). When it is set (always on
    spark), sigma_lake_sources() (on-run-start) creates the raw relations of var('sigma_raw_schema')
    as views of static SQL the engine resolves: loaded_files, the latest commit's manifest row per
    export file; impression_rows and rejected_lines, the rows of every object of their folder
    (columns unioned by name: the loader writes them in lower case) that a current `loaded` manifest
    row names, so objects a killed writer left and replaced versions are never read. Without the
    var, the duckdb target reads the tables the loader landed in the DuckDB file. -#}

{#- The lake root without a trailing '/', '' when none is configured. -#}
{% macro sigma_lake_uri() -%}
    {%- set configured = var("sigma_lake_uri", "") -%}
    {{ return(("" if configured is none else configured | string | trim).rstrip("/")) }}
{%- endmacro %}

{#- How the engine reads every Parquet object of `folder` as one relation, columns unioned by name:
    `relation` (aliased lake_objects), `columns` (the objects' own columns), `path` (a row's object
    path), `session` (statements the hook runs first). -#}
{% macro sigma_lake_objects(folder) -%}
    {{ return(adapter.dispatch("sigma_lake_objects", "sigma_impressions")(folder)) }}
{%- endmacro %}

{% macro default__sigma_lake_objects(folder) -%}
    {{ exceptions.raise_compiler_error("no portable SQL reads Parquet: add " ~ adapter.type() ~ "__sigma_lake_objects") }}
{%- endmacro %}

{#- DuckDB reads local paths, s3:// and gs:// (httpfs). -#}
{% macro duckdb__sigma_lake_objects(folder) -%}
    {%- set folder = folder[7:] if folder.startswith("file://") else folder -%}
    {{ return({
        "relation": "read_parquet('" ~ folder | replace("'", "''") ~ "/*.parquet', union_by_name = true, filename = '_lake_object')",
        "columns": "lake_objects.* exclude (_lake_object)",
        "path": "lake_objects._lake_object",
        "session": [],
    }) }}
{%- endmacro %}

{#- Hadoop's S3 connector is s3a://. Spark unions by name only with mergeSchema, and reads the
    loader's timestamps (not adjusted to UTC) as TIMESTAMP, like DuckDB, only without inferTimestampNTZ:
    session settings, so every session reading the views needs them (cluster profiles: server_side_parameters). -#}
{% macro spark__sigma_lake_objects(folder) -%}
    {%- set folder = "s3a://" ~ folder[5:] if folder.startswith("s3://") else folder -%}
    {{ return({
        "relation": "parquet.`" ~ folder | replace("`", "``") ~ "/*.parquet`",
        "columns": "lake_objects.*",
        "path": "lake_objects._metadata.file_path",
        "session": ["set spark.sql.parquet.mergeSchema=true", "set spark.sql.parquet.inferTimestampNTZ.enabled=false"],
    }) }}
{%- endmacro %}

{#- The manifest rows readers see: the latest commit's row per export file. -#}
{% macro sigma_lake_current_entries() -%}
    select * from (
        select lake_objects.*, row_number() over (partition by lake_objects.file_uri order by lake_objects.commit_id desc) as entry_rank
        from {{ sigma_lake_objects(sigma_lake_uri() ~ "/_manifest").relation }} as lake_objects
    ) as ranked_entries
    where entry_rank = 1
{%- endmacro %}

{#- The rows of the objects in `folder` that a current `loaded` manifest row names in `file_column`. -#}
{% macro sigma_lake_committed(folder, file_column) -%}
    {%- set objects = sigma_lake_objects(sigma_lake_uri() ~ "/" ~ folder) -%}
    {%- set name = dbt.concat(["'/'", "entries." ~ file_column]) -%}
    select {{ objects.columns }}
    from {{ objects.relation }} as lake_objects
    inner join ({{ sigma_lake_current_entries() }}) as entries
        on lake_objects._file_uri = entries.file_uri
        and entries.status = 'loaded'
        and {{ dbt.right(objects.path, dbt.length(name)) }} = {{ name }}
{%- endmacro %}

{#- on-run-start: (re)create the raw relations over the lake's committed objects. -#}
{% macro sigma_lake_sources() -%}
    {%- if execute and sigma_lake_uri() == "" and target.type == "spark" -%}
        {{ exceptions.raise_compiler_error(
            "the spark target reads the Parquet lake: set SIGMA_IMPRESSIONS_LAKE_URI (or vars.sigma_lake_uri) "
            ~ "to the --lake-uri that `sigma-impressions load` wrote") }}
    {%- endif -%}
    {%- if not execute or sigma_lake_uri() == "" -%}
        {{ return("") }}
    {%- endif -%}
    {%- set schema = var("sigma_raw_schema", "sigma_raw") -%}
    {%- set views = {
        "loaded_files": "select file_uri, etag, size_bytes, last_modified, headers, rows_loaded, rows_rejected, status, error, "
            ~ "loaded_at, integration_name from (" ~ sigma_lake_current_entries() ~ ") as current_entries",
        "impression_rows": sigma_lake_committed("impression_rows", "rows_file"),
        "rejected_lines": sigma_lake_committed("rejected_lines", "rejects_file"),
    } -%}
    {%- for statement in sigma_lake_objects(sigma_lake_uri()).session -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- do run_query("create schema if not exists " ~ schema) -%}
    {%- for name, sql in views.items() -%}
        {%- set relation = api.Relation.create(schema=schema, identifier=name, type="view") -%}
        {%- do run_query("create or replace view " ~ relation ~ " as " ~ sql) -%}
    {%- endfor -%}
    {{ return("") }}
{%- endmacro %}
