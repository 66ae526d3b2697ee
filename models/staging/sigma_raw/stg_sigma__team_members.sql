{#- Who is in which team: the table the Sigma API sync writes (the current membership,
    vars.sigma_inventory_source 'sigma_api') or the demo seed ('seeds'). -#}
{%- set relation = sigma_inventory_relation('sigma_team_members') %}

with

source as (

    select * from {{ relation }}

),

renamed as (

    select
        cast(team_id as {{ dbt.type_string() }}) as team_id,
        cast(member_id as {{ dbt.type_string() }}) as member_id
    from source

)

select * from renamed
