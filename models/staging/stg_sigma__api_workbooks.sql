with

source as (

    select * from {{ sigma_api_table('sigma_workbooks', {
        'workbook_id': 'varchar', 'workbook_url_id': 'varchar', 'name': 'varchar', 'url': 'varchar',
        'path': 'varchar', 'owner_email': 'varchar', 'created_at': 'timestamp', 'updated_at': 'timestamp',
        'is_archived': 'boolean', 'last_synced_at': 'timestamp', 'deleted_at': 'timestamp'}) }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        cast(workbook_id as {{ dbt.type_string() }}) as workbook_id,
        cast(name as {{ dbt.type_string() }}) as workbook_name,
        cast(path as {{ dbt.type_string() }}) as workbook_path,
        lower({{ sigma_trim('cast(owner_email as ' ~ dbt.type_string() ~ ')') }}) as owner_email,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(url as {{ dbt.type_string() }}) as workbook_url,
        coalesce(cast(is_archived as {{ dbt.type_boolean() }}), false) as is_archived,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at,
        cast(last_synced_at as {{ dbt.type_timestamp() }}) as last_synced_at
    from source

),

-- One row per url id: a listed workbook wins over a deleted one, then the latest listed.
deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by workbook_url_id
        order by deleted_at is null desc, last_synced_at desc, workbook_id asc
    ) = 1

)

select * from deduplicated
