{#-
    The materialization of the incremental models: `incremental` (delete+insert, with post-hooks
    that delete the rows of replaced files) where the engine can delete rows; a full rebuild
    (`table`) on Spark's plain Parquet tables, which cannot delete or merge rows (Delta or Iceberg
    tables could). Both give the same rows: the incremental models equal a full refresh.
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
