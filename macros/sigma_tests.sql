{#- Generic test: the combination of `columns` is a key (rows repeating it fail; NULLs compare
    equal, as in GROUP BY): a primary-key test over several columns, dbt_utils'
    unique_combination_of_columns rule (the evaluator is told so in dbt_project.yml). -#}
{% test sigma_unique_key(model, columns) %}

select
    {{ columns | join(", ") }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(", ") }}
having count(*) > 1

{% endtest %}
