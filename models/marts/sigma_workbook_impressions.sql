with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

resolved_impressions as (

    select * from {{ ref('int_sigma__impressions_resolved') }}
    where {{ sigma_before_window_end('request_time') }}

),

history as (

    select min(request_time) as history_start_at
    from resolved_impressions

),

workbook_impressions as (

    select * from resolved_impressions
    where is_known_workbook

),

workbook_metrics as (

    select
        workbook_url_id,
        {{ sigma_resource_aggregates() }}
    from workbook_impressions
    group by workbook_url_id

),

user_impressions_60d as (

    select
        workbook_url_id,
        user_email,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        max(request_time) as last_impression_at
    from workbook_impressions
    where {{ sigma_in_window('request_time', 60) }}
    group by workbook_url_id, user_email

),

workbook_users as (

    select
        workbook_url_id,
        {{ sigma_used_list('user_email', 'impressions', 'last_impression_at') }} as used
    from user_impressions_60d
    group by workbook_url_id

),

workbook_usage as (

    select
        workbooks.workbook_url_id,
        workbooks.workbook_name,
        workbooks.workbook_path as path,
        workbooks.owner_email,
        workbooks.created_at,
        history.history_start_at,
        {{ sigma_resource_metric_columns('workbook_metrics') }},
        coalesce(workbook_users.used, {{ sigma_empty_used_list() }}) as used
    from workbooks
    cross join history
    left join workbook_metrics
        on workbooks.workbook_url_id = workbook_metrics.workbook_url_id
    left join workbook_users
        on workbooks.workbook_url_id = workbook_users.workbook_url_id

),

final as (

    select
        workbook_url_id,
        workbook_name,
        path,
        owner_email,
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
