{#- Sigma's teams: the table the Sigma API sync writes (vars.sigma_inventory_source 'sigma_api')
    or the demo seed ('seeds'). -#}
{%- set relation = sigma_inventory_relation('sigma_teams') %}

with

source as (

    select * from {{ relation }}

),

renamed as (

    select
        cast(team_id as {{ dbt.type_string() }}) as team_id,
        cast(name as {{ dbt.type_string() }}) as team_name,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at,
        deleted_at is not null as is_deleted
    from source

)

select * from renamed
