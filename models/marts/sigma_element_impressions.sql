with

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

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

element_impressions as (

    select * from resolved_impressions
    where is_known_element

),

element_metrics as (

    select
        workbook_url_id,
        element_id,
        {{ sigma_resource_aggregates() }}
    from element_impressions
    group by workbook_url_id, element_id

),

user_impressions_60d as (

    select
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_sum_bigint('impression_count') }} as impressions,
        max(request_time) as last_impression_at
    from element_impressions
    where {{ sigma_in_window('request_time', 60) }}
    group by workbook_url_id, element_id, user_email

),

element_users as (

    select
        workbook_url_id,
        element_id,
        {{ sigma_used_list('user_email', 'impressions', 'last_impression_at') }} as used
    from user_impressions_60d
    group by workbook_url_id, element_id

),

element_usage as (

    select
        workbook_elements.workbook_url_id,
        workbook_elements.element_id,
        workbook_elements.element_name,
        workbook_elements.page_name,
        workbook_elements.element_type,
        workbooks.workbook_name,
        workbooks.created_at,
        history.history_start_at,
        {{ sigma_resource_metric_columns('element_metrics') }},
        coalesce(element_users.used, {{ sigma_empty_used_list() }}) as used
    from workbook_elements
    cross join history
    left join workbooks
        on workbook_elements.workbook_url_id = workbooks.workbook_url_id
    left join element_metrics
        on
            workbook_elements.workbook_url_id = element_metrics.workbook_url_id
            and workbook_elements.element_id = element_metrics.element_id
    left join element_users
        on
            workbook_elements.workbook_url_id = element_users.workbook_url_id
            and workbook_elements.element_id = element_users.element_id

),

final as (

    select
        workbook_url_id,
        element_id,
        element_name,
        page_name,
        element_type,
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
