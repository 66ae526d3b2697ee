{#- Generic test: the combination of `columns` is unique (NULLs compare equal). -#}
{% test sigma_unique_combination(model, columns) %}

select
    {{ columns | join(", ") }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(", ") }}
having count(*) > 1

{% endtest %}
