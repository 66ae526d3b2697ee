{#-
    The rows of `actual` and `expected` (relations) on `columns` differ nowhere: a singular test
    over this returns each row missing from `actual` or not expected, with which it is.
-#}
{% macro rows_match(actual, expected, columns) -%}
with

actual as (

    select {{ columns | join(", ") }}
    from {{ actual }}

),

expected as (

    select {{ columns | join(", ") }}
    from {{ expected }}

),

missing as (

    select 'missing' as problem, * from (select * from expected except select * from actual) as rows_missing

),

unexpected as (

    select 'unexpected' as problem, * from (select * from actual except select * from expected) as rows_unexpected

)

select * from missing
union all
select * from unexpected
{%- endmacro %}
