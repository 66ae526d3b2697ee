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

element_used_lists as (

    select * from {{ ref('int_sigma__element_used_lists') }}

),

final as (

    select
        workbook_elements.workbook_url_id,
        workbook_elements.element_id,
        workbook_elements.element_name,
        workbook_elements.page_name,
        workbook_elements.element_type,
        element_metrics.is_deleted,
        workbooks.workbook_name,
        {%- for days in sigma_windows('impression_windows') %}
        element_metrics.total_impressions_{{ days }}d,
        {%- endfor %}
        element_metrics.unique_users_14d,
        element_metrics.unique_users_30d,
        element_metrics.last_impression_at,
        element_metrics.days_since_last_impression,
        element_metrics.impressions_trend_14d,
        element_metrics.impressions_trend_14d_pct,
        element_metrics.popularity_rank,
        element_metrics.has_enough_history,
        element_metrics.is_stale,
        element_metrics.impressions_previous_14d,
        coalesce({{ sigma_sort_used_list('element_used_lists.used') }}, {{ sigma_empty_used_list() }}) as used,
        {{ sigma_window_start(1) }} as as_of_date,
        element_metrics.impressions_trend_14d_label,
        element_metrics.usage_status,
        element_metrics.is_cleanup_candidate,
        element_metrics.excluded_impressions_30d
    from workbook_elements
    inner join element_metrics
        on
            workbook_elements.workbook_url_id = element_metrics.workbook_url_id
            and workbook_elements.element_id = element_metrics.element_id
    left join workbooks
        on workbook_elements.workbook_url_id = workbooks.workbook_url_id
    left join element_used_lists
        on
            workbook_elements.workbook_url_id = element_used_lists.workbook_url_id
            and workbook_elements.element_id = element_used_lists.element_id

)

select * from final
