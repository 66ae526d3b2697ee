{#- Who is in which team: the table the Sigma API sync writes (the current membership,
    vars.sigma_inventory_source 'sigma_api') or the demo seed ('seeds'). -#}
{%- set relation = ref('sigma_team_members') if sigma_inventory_source() == 'seeds' else source('sigma_raw', 'sigma_team_members') %}

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
