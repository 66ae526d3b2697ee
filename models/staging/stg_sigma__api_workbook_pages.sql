with

source as (

    select * from {{ sigma_api_table('sigma_workbook_pages', {
        'workbook_id': 'varchar', 'workbook_url_id': 'varchar', 'page_id': 'varchar', 'name': 'varchar',
        'page_position': 'integer', 'deleted_at': 'timestamp'}) }}

),

renamed as (

    select
        cast(workbook_id as {{ dbt.type_string() }}) as workbook_id,
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        cast(page_id as {{ dbt.type_string() }}) as page_id,
        cast(name as {{ dbt.type_string() }}) as page_name,
        cast(page_position as {{ dbt.type_int() }}) as page_position,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
