{#- Written between a CTE's name and its body (`name as {{ sigma_inline_cte() }} (...)`) on CTEs
    that only read a large relation (`select * from <table> [where ...]`): DuckDB materializes
    every CTE referenced more than once, which copies the whole relation into memory (spilling
    past memory_limit) before reading it again; inlined, each reference is a plain scan with its
    own filters pushed down. Other engines inline such CTEs themselves: nothing to write. -#}
{% macro sigma_inline_cte() -%}
    {{ return(adapter.dispatch("sigma_inline_cte", "sigma_impressions")()) }}
{%- endmacro %}

{% macro default__sigma_inline_cte() -%}
{%- endmacro %}

{% macro duckdb__sigma_inline_cte() -%}
    not materialized
{%- endmacro %}
