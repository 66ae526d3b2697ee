with

source as (

    select * from {{ sigma_inventory_relation('sigma_workbooks_relation', 'sigma_workbooks') }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        cast(workbook_id as {{ dbt.type_string() }}) as workbook_id,
        cast(name as {{ dbt.type_string() }}) as workbook_name,
        cast(path as {{ dbt.type_string() }}) as workbook_path,
        lower({{ sigma_trim('cast(owner_email as ' ~ dbt.type_string() ~ ')') }}) as owner_email,
        {{ sigma_safe_cast('created_at', dbt.type_timestamp()) }} as created_at,
        {{ sigma_safe_cast('updated_at', dbt.type_timestamp()) }} as updated_at
    from source

)

select * from renamed
