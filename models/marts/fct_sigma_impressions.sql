{{ config(materialized=sigma_published_view_materialization()) }}

with

events as (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where not is_removed

),

final as (

    select
        impression_id,
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        impression_count,
        resource_type,
        _file_uri
    from events

)

select * from final
