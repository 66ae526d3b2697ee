with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_metrics as (

    select * from {{ ref('int_sigma__resource_metrics') }}
    where resource_type = 'sigma_workbook'

),

workbook_used_lists as (

    select * from {{ ref('int_sigma__workbook_used_lists') }}

),

final as (

    select
        workbooks.workbook_url_id,
        workbooks.workbook_name,
        workbooks.workbook_path as path,
        workbooks.owner_email,
        workbooks.workbook_url,
        workbooks.is_archived,
        workbooks.is_deleted,
        {%- for days in sigma_windows('impression_windows') %}
        workbook_metrics.total_impressions_{{ days }}d,
        {%- endfor %}
        workbook_metrics.unique_users_14d,
        workbook_metrics.unique_users_30d,
        workbook_metrics.last_impression_at,
        workbook_metrics.days_since_last_impression,
        workbook_metrics.impressions_trend_14d,
        workbook_metrics.impressions_trend_14d_pct,
        workbook_metrics.popularity_rank,
        workbook_metrics.has_enough_history,
        workbook_metrics.is_stale,
        workbook_metrics.impressions_previous_14d,
        coalesce({{ sigma_sort_used_list('workbook_used_lists.used') }}, {{ sigma_empty_used_list() }}) as used,
        {{ sigma_window_start(1) }} as as_of_date,
        workbook_metrics.impressions_trend_14d_label,
        workbook_metrics.usage_status,
        workbook_metrics.is_cleanup_candidate,
        workbook_metrics.excluded_impressions_30d
    from workbooks
    inner join workbook_metrics
        on workbooks.workbook_url_id = workbook_metrics.workbook_url_id
    left join workbook_used_lists
        on workbooks.workbook_url_id = workbook_used_lists.workbook_url_id

)

select * from final
