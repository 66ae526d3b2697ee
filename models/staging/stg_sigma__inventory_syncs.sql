with

source as (

    select * from {{ sigma_api_table('inventory_syncs', {
        'sync_id': 'varchar', 'started_at': 'timestamp', 'finished_at': 'timestamp', 'status': 'varchar',
        'mode': 'varchar', 'workbooks_listed': 'integer', 'workbooks_skipped': 'integer',
        'skipped_workbooks': 'varchar', 'entries_skipped': 'integer', 'api_calls': 'integer',
        'error': 'varchar'}) }}

),

renamed as (

    select
        cast(sync_id as {{ dbt.type_string() }}) as sync_id,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(finished_at as {{ dbt.type_timestamp() }}) as finished_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(mode as {{ dbt.type_string() }}) as sync_mode,
        cast(workbooks_listed as {{ dbt.type_int() }}) as workbooks_listed,
        cast(workbooks_skipped as {{ dbt.type_int() }}) as workbooks_skipped,
        cast(skipped_workbooks as {{ dbt.type_string() }}) as skipped_workbooks,
        cast(entries_skipped as {{ dbt.type_int() }}) as entries_skipped,
        cast(api_calls as {{ dbt.type_int() }}) as api_calls,
        cast(error as {{ dbt.type_string() }}) as error
    from source

)

select * from renamed
