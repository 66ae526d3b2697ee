with

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

element_metrics as (

    select * from {{ ref('int_sigma__resource_metrics') }}
    where resource_type = 'sigma_workbook_element'

),

history as (

    select * from {{ ref('int_sigma__impression_history') }}

),

element_usage as (

    select
        workbook_elements.workbook_url_id,
        workbook_elements.element_id,
        workbook_elements.element_name,
        workbook_elements.page_name,
        workbook_elements.element_type,
        workbook_elements.is_deleted or coalesce(workbooks.is_deleted, false) as is_deleted,
        workbooks.workbook_name,
        workbooks.created_at,
        history.history_start_at,
        {{ sigma_resource_metric_columns('element_metrics') }}
    from workbook_elements
    cross join history
    left join workbooks
        on workbook_elements.workbook_url_id = workbooks.workbook_url_id
    left join element_metrics
        on
            workbook_elements.workbook_url_id = element_metrics.workbook_url_id
            and workbook_elements.element_id = element_metrics.element_id

),

final as (

    select
        workbook_url_id,
        element_id,
        element_name,
        page_name,
        element_type,
        is_deleted,
        workbook_name,
        {%- for days in sigma_windows() %}
        total_impressions_{{ days }}d,
        {%- endfor %}
        unique_users_14d,
        unique_users_30d,
        last_impression_at,
        {{ sigma_resource_derived_columns() }},
        impressions_previous_14d,
        used,
        {{ sigma_as_of_date_literal() }} as as_of_date
    from element_usage

)

select * from final
