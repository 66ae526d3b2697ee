with

source as (

    select * from {{ sigma_api_table('sigma_members', {
        'member_id': 'varchar', 'email': 'varchar', 'first_name': 'varchar', 'last_name': 'varchar',
        'deleted_at': 'timestamp'}) }}

),

renamed as (

    select
        cast(member_id as {{ dbt.type_string() }}) as member_id,
        lower({{ sigma_trim('cast(email as ' ~ dbt.type_string() ~ ')') }}) as email,
        cast(first_name as {{ dbt.type_string() }}) as first_name,
        cast(last_name as {{ dbt.type_string() }}) as last_name,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at
    from source

)

select * from renamed
