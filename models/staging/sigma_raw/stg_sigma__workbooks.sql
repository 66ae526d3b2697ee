{#- The workbook inventory: the relation vars.sigma_workbooks_relation names, else the table the
    Sigma API sync writes (vars.sigma_inventory_source 'sigma_api') or the demo seed ('seeds'). -#}
{%- set relation = sigma_inventory_relation('sigma_workbooks', 'sigma_workbooks_relation') %}
{%- set inventory_source = 'relation' if sigma_relation_var('sigma_workbooks_relation') is not none else sigma_inventory_source() %}

with

source as (

    select * from {{ relation }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        cast(workbook_id as {{ dbt.type_string() }}) as workbook_id,
        cast(name as {{ dbt.type_string() }}) as workbook_name,
        cast(path as {{ dbt.type_string() }}) as workbook_path,
        lower({{ sigma_trim('cast(owner_email as ' ~ dbt.type_string() ~ ')') }}) as owner_email,
        {{ sigma_safe_cast('created_at', dbt.type_timestamp()) }} as created_at,
        {{ sigma_safe_cast('updated_at', dbt.type_timestamp()) }} as updated_at,
        cast({{ sigma_optional_column(relation, 'url') }} as {{ dbt.type_string() }}) as workbook_url,
        coalesce(cast({{ sigma_optional_column(relation, 'is_archived') }} as {{ dbt.type_boolean() }}), false) as is_archived,
        cast({{ sigma_optional_column(relation, 'deleted_at') }} as {{ dbt.type_timestamp() }}) as deleted_at,
        cast({{ sigma_optional_column(relation, 'last_synced_at') }} as {{ dbt.type_timestamp() }}) as last_synced_at,
        '{{ inventory_source }}' as inventory_source
    from source

),

ranked as (

    -- A workbook listed by Sigma wins over a deleted one with the same URL id, then the latest.
    select
        *,
        row_number() over (
            partition by workbook_url_id
            order by deleted_at is null desc, last_synced_at desc, workbook_id asc
        ) as url_id_rank
    from renamed

),

final as (

    select
        workbook_url_id,
        workbook_id,
        workbook_name,
        workbook_path,
        owner_email,
        created_at,
        updated_at,
        workbook_url,
        is_archived,
        deleted_at,
        inventory_source,
        deleted_at is not null as is_deleted
    from ranked
    where url_id_rank = 1

)

select * from final
