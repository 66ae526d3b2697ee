{#- The element inventory: the relation vars.sigma_workbook_elements_relation names, else the
    table the Sigma API sync writes (vars.sigma_inventory_source 'sigma_api') or the demo seed. -#}
{%- set relation = sigma_inventory_relation('sigma_workbook_elements', 'sigma_workbook_elements_relation') %}
{%- set inventory_source = 'relation' if sigma_relation_var('sigma_workbook_elements_relation') is not none else sigma_inventory_source() %}

with

source as (

    select * from {{ relation }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        nullif({{ sigma_trim('cast(element_id as ' ~ dbt.type_string() ~ ')') }}, '') as element_id,
        cast(page_name as {{ dbt.type_string() }}) as page_name,
        cast(name as {{ dbt.type_string() }}) as element_name,
        cast(element_type as {{ dbt.type_string() }}) as element_type,
        cast({{ sigma_optional_column(relation, 'visualization_type') }} as {{ dbt.type_string() }}) as visualization_type,
        cast({{ sigma_optional_column(relation, 'deleted_at') }} as {{ dbt.type_timestamp() }}) as deleted_at,
        cast({{ sigma_optional_column(relation, 'last_synced_at') }} as {{ dbt.type_timestamp() }}) as last_synced_at,
        '{{ inventory_source }}' as inventory_source
    from source

),

ranked as (

    -- An element Sigma lists wins over a deleted one with the same ids, then the latest.
    select
        *,
        row_number() over (
            partition by workbook_url_id, element_id
            order by deleted_at is null desc, last_synced_at desc
        ) as element_rank
    from renamed

),

final as (

    select
        workbook_url_id,
        element_id,
        page_name,
        element_name,
        element_type,
        visualization_type,
        deleted_at,
        inventory_source,
        deleted_at is not null as is_deleted
    from ranked
    where element_rank = 1

)

select * from final
