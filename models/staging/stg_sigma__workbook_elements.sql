{% if sigma_demo_inventory_enabled() %}-- depends_on: {{ ref('sigma_workbook_elements') }}{% endif %}
-- depends_on: {{ ref('stg_sigma__api_workbook_elements') }}
{%- set inventory_source = sigma_inventory_source('sigma_workbook_elements_relation') %}

with

{% if inventory_source == 'sigma_api' -%}

renamed as (

    select
        workbook_url_id,
        element_id,
        page_name,
        element_name,
        element_type,
        visualization_type,
        deleted_at is not null as is_deleted,
        deleted_at,
        'sigma_api' as inventory_source
    from {{ ref('stg_sigma__api_workbook_elements') }}

)

{%- else -%}
{%- set relation = sigma_inventory_relation('sigma_workbook_elements_relation', 'sigma_workbook_elements') %}

source as (

    select * from {{ relation }}

),

renamed as (

    select
        nullif({{ sigma_trim('cast(workbook_url_id as ' ~ dbt.type_string() ~ ')') }}, '') as workbook_url_id,
        nullif({{ sigma_trim('cast(element_id as ' ~ dbt.type_string() ~ ')') }}, '') as element_id,
        cast(page_name as {{ dbt.type_string() }}) as page_name,
        cast(name as {{ dbt.type_string() }}) as element_name,
        cast(element_type as {{ dbt.type_string() }}) as element_type,
        cast(
            {{ sigma_optional_column(relation, 'visualization_type', 'null') }} as {{ dbt.type_string() }}
        ) as visualization_type,
        {{ sigma_optional_column(relation, 'deleted_at', 'null') }} is not null as is_deleted,
        cast({{ sigma_optional_column(relation, 'deleted_at', 'null') }} as {{ dbt.type_timestamp() }}) as deleted_at,
        '{{ inventory_source }}' as inventory_source
    from source

)

{%- endif %}

select * from renamed
