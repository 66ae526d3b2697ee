with

source as (

    select * from {{ sigma_inventory_relation('sigma_workbook_elements_relation', 'sigma_workbook_elements') }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        nullif({{ sigma_trim('cast(element_id as ' ~ dbt.type_string() ~ ')') }}, '') as element_id,
        cast(page_name as {{ dbt.type_string() }}) as page_name,
        cast(name as {{ dbt.type_string() }}) as element_name,
        cast(element_type as {{ dbt.type_string() }}) as element_type
    from source

)

select * from renamed
