{#- Sigma's members: the table the Sigma API sync writes (vars.sigma_inventory_source 'sigma_api')
    or the demo seed ('seeds'). -#}
{%- set relation = sigma_inventory_relation('sigma_members') %}

with

source as (

    select * from {{ relation }}

),

renamed as (

    select
        cast(member_id as {{ dbt.type_string() }}) as member_id,
        lower({{ sigma_trim('cast(email as ' ~ dbt.type_string() ~ ')') }}) as email,
        cast(first_name as {{ dbt.type_string() }}) as first_name,
        cast(last_name as {{ dbt.type_string() }}) as last_name,
        cast(member_type as {{ dbt.type_string() }}) as member_type,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at,
        deleted_at is not null as is_deleted
    from source

)

select * from renamed
