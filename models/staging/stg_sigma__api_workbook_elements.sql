with

source as (

    select * from {{ sigma_api_table('sigma_workbook_elements', {
        'workbook_id': 'varchar', 'workbook_url_id': 'varchar', 'page_id': 'varchar', 'page_name': 'varchar',
        'element_id': 'varchar', 'name': 'varchar', 'element_type': 'varchar', 'visualization_type': 'varchar',
        'last_synced_at': 'timestamp', 'deleted_at': 'timestamp'}) }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        nullif({{ sigma_trim('cast(element_id as ' ~ dbt.type_string() ~ ')') }}, '') as element_id,
        cast(workbook_id as {{ dbt.type_string() }}) as workbook_id,
        cast(page_id as {{ dbt.type_string() }}) as page_id,
        cast(page_name as {{ dbt.type_string() }}) as page_name,
        cast(name as {{ dbt.type_string() }}) as element_name,
        cast(element_type as {{ dbt.type_string() }}) as element_type,
        cast(visualization_type as {{ dbt.type_string() }}) as visualization_type,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at,
        cast(last_synced_at as {{ dbt.type_timestamp() }}) as last_synced_at
    from source

),

-- One row per (url id, element id): a listed element wins over a deleted one, then the latest.
deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by workbook_url_id, element_id
        order by deleted_at is null desc, last_synced_at desc, workbook_id asc
    ) = 1

)

select * from deduplicated
