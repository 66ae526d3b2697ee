{{ config(materialized='table') }}

{#- The `used` lists are built in batches of workbooks (DuckDB cannot spill a list aggregate:
    macros/sigma_used.sql, sigma_used_list_batches). -#}
{%- set batches = sigma_used_list_batches(ref('int_sigma__resource_users')) %}

with

resource_days as (

    select * from {{ ref('int_sigma__resource_days') }}
    where {{ sigma_day_before_window_end('impression_date') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

resource_windows as (

    -- Every window is a conditional sum over a few rows per resource and day.
    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_resource_window_aggregates() }}
    from resource_days
    group by resource_type, workbook_url_id, element_id

),

known_resource_windows as (

    -- Workbooks of the inventory, and their elements that the inventory knows.
    select resource_windows.*
    from resource_windows
    inner join workbooks
        on resource_windows.workbook_url_id = workbooks.workbook_url_id
    left join workbook_elements
        on
            resource_windows.workbook_url_id = workbook_elements.workbook_url_id
            and resource_windows.element_id = workbook_elements.element_id
    where
        resource_windows.resource_type = 'sigma_workbook'
        or workbook_elements.element_id is not null

),

resource_users as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__resource_users') }}

),

user_metrics as (

    {%- for batch in range(batches) %}
    select
        resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_resource_user_metrics() }}
    from resource_users
    {%- if batches > 1 %}
    where {{ sigma_batch_predicate('workbook_url_id', batch, batches) }}
    {%- endif %}
    group by resource_type, workbook_url_id, element_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    -- Every known resource with an impression up to as_of_date; zeros where no user counts.
    select
        known_resource_windows.resource_type,
        known_resource_windows.workbook_url_id,
        known_resource_windows.element_id,
        {%- for days in sigma_windows() %}
        known_resource_windows.total_impressions_{{ days }}d,
        {%- endfor %}
        coalesce(user_metrics.unique_users_14d, 0) as unique_users_14d,
        coalesce(user_metrics.unique_users_30d, 0) as unique_users_30d,
        known_resource_windows.impressions_previous_14d,
        known_resource_windows.impressions_stale_window,
        known_resource_windows.last_impression_at,
        coalesce(user_metrics.used, {{ sigma_empty_used_list() }}) as used
    from known_resource_windows
    left join user_metrics
        on
            known_resource_windows.resource_type = user_metrics.resource_type
            and known_resource_windows.workbook_url_id = user_metrics.workbook_url_id
            and known_resource_windows.element_id is not distinct from user_metrics.element_id

)

select * from final
