{#- A view on DuckDB (a run costs nothing here); a Parquet table on Spark, so every mart has its
    files under <lake>/marts/. -#}
{{ config(materialized='table' if target.type == 'spark' else 'view') }}

with

impressions as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}

),

final as (

    select
        -- The event key, hashed: each text part length-prefixed (no separator inside an id can
        -- make two keys collide), a missing element id written '-'.
        {{ dbt.hash(dbt.concat([
            "cast(request_time as " ~ dbt.type_string() ~ ")",
            "'|'", "cast(" ~ dbt.length("user_email") ~ " as " ~ dbt.type_string() ~ ")", "':'", "user_email",
            "'|'", "cast(" ~ dbt.length("workbook_url_id") ~ " as " ~ dbt.type_string() ~ ")", "':'", "workbook_url_id",
            "'|'", "coalesce(" ~ dbt.concat(["cast(" ~ dbt.length("element_id") ~ " as " ~ dbt.type_string() ~ ")", "':'", "element_id"]) ~ ", '-')",
        ])) }} as impression_id,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        resource_type,
        _file_uri,
        exclusion_reason
    from impressions

)

select * from final
