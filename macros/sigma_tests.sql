{#- Generic test: the combination of `columns` is unique (NULLs compare equal). -#}
{% test sigma_unique_combination(model, columns) %}

select
    {{ columns | join(", ") }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(", ") }}
having count(*) > 1

{% endtest %}

{#- Generic test: none of `columns` is NULL. One test per model instead of one per column
    (a daily build runs every test: each is a query and a node of its own); one row per column
    that holds NULLs, with how many. -#}
{% test sigma_not_null(model, columns) %}

with

null_counts as (

    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as null_rows_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

)

{% for column in columns -%}
select
    '{{ column }}' as column_name,
    null_rows_{{ loop.index }} as null_rows
from null_counts
where null_rows_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif %}
{%- endfor %}

{% endtest %}
