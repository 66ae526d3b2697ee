{% if sigma_demo_inventory_enabled() %}-- depends_on: {{ ref('sigma_workbooks') }}{% endif %}
-- depends_on: {{ ref('stg_sigma__api_workbooks') }}
{%- set inventory_source = sigma_inventory_source('sigma_workbooks_relation') %}

with

{% if inventory_source == 'sigma_api' -%}

renamed as (

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
        deleted_at is not null as is_deleted,
        deleted_at,
        'sigma_api' as inventory_source
    from {{ ref('stg_sigma__api_workbooks') }}

)

{%- else -%}
{%- set relation = sigma_inventory_relation('sigma_workbooks_relation', 'sigma_workbooks') %}

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
        cast({{ sigma_optional_column(relation, 'url', 'null') }} as {{ dbt.type_string() }}) as workbook_url,
        coalesce(
            cast({{ sigma_optional_column(relation, 'is_archived', 'null') }} as {{ dbt.type_boolean() }}), false
        ) as is_archived,
        {{ sigma_optional_column(relation, 'deleted_at', 'null') }} is not null as is_deleted,
        cast({{ sigma_optional_column(relation, 'deleted_at', 'null') }} as {{ dbt.type_timestamp() }}) as deleted_at,
        '{{ inventory_source }}' as inventory_source
    from source

)

{%- endif %}

select * from renamed
