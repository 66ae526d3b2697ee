{#-
    The event key hash: (request_time, user_email, workbook_url_id, element_id), NULL-safe and
    unambiguous (each text part is length-prefixed, so no separator inside an id can make two
    keys collide; a NULL element_id differs from every text).
-#}
{% macro sigma_impression_id(request_time, user_email, workbook_url_id, element_id) -%}
    {%- set text = dbt.type_string() -%}
    {{ dbt.hash(dbt.concat([
        "cast(" ~ request_time ~ " as " ~ text ~ ")",
        "'|'",
        "cast(" ~ dbt.length(user_email) ~ " as " ~ text ~ ")",
        "':'",
        user_email,
        "'|'",
        "cast(" ~ dbt.length(workbook_url_id) ~ " as " ~ text ~ ")",
        "':'",
        workbook_url_id,
        "'|'",
        "coalesce(" ~ dbt.concat(["cast(" ~ dbt.length(element_id) ~ " as " ~ text ~ ")", "':'", element_id]) ~ ", '-')",
    ])) }}
{%- endmacro %}
