with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_metrics as (

    select * from {{ ref('int_sigma__resource_metrics') }}
    where resource_type = 'sigma_workbook'

),

history as (

    select * from {{ ref('int_sigma__impression_history') }}

),

workbook_usage as (

    select
        workbooks.workbook_url_id,
        workbooks.workbook_name,
        workbooks.workbook_path as path,
        workbooks.owner_email,
        workbooks.workbook_url,
        workbooks.is_archived,
        workbooks.is_deleted,
        workbooks.created_at,
        history.history_start_at,
        {{ sigma_resource_metric_columns('workbook_metrics') }}
    from workbooks
    cross join history
    left join workbook_metrics
        on workbooks.workbook_url_id = workbook_metrics.workbook_url_id

),

final as (

    select
        workbook_url_id,
        workbook_name,
        path,
        owner_email,
        workbook_url,
        is_archived,
        is_deleted,
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
    from workbook_usage

)

select * from final
