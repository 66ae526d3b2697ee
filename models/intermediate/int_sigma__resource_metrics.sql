{{ config(materialized='table') }}

{%- set as_of = sigma_window_start(1) %}
{%- set stale_days = var('sigma_stale_after_days') | int %}

with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

window_impressions as (

    -- Counted impressions of inventory workbooks up to as_of_date: the window sums.
    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is null and is_known_workbook and impression_date <= {{ as_of }}

),

resource_users as (

    select * from {{ ref('int_sigma__resource_users') }}

),

excluded_impressions as (

    -- Impressions an exclusion rule leaves out, in the 30-day window.
    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where
        exclusion_reason is not null
        and impression_date >= {{ sigma_window_start(30) }}
        and impression_date <= {{ as_of }}

),

history as (

    -- The loaded history starts at the earliest impression (counted or not) up to as_of_date:
    -- before that, "no impressions" may only mean "not loaded yet".
    select min(request_time) as history_start_at
    from {{ ref('int_sigma__impressions_deduplicated') }}
    where impression_date <= {{ as_of }}

),

inventory_resources as (

    -- Every inventory workbook, and every inventory element with its workbook's lifecycle.
    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        created_at,
        is_archived,
        is_deleted
    from workbooks

    union all

    select
        'sigma_workbook_element' as resource_type,
        workbook_elements.workbook_url_id,
        workbook_elements.element_id,
        workbooks.created_at,
        coalesce(workbooks.is_archived, false) as is_archived,
        workbook_elements.is_deleted or coalesce(workbooks.is_deleted, false) as is_deleted
    from workbook_elements
    left join workbooks
        on workbook_elements.workbook_url_id = workbooks.workbook_url_id

),

resource_windows as (

    -- Per element (an element the inventory does not know is dropped by the join below) and per
    -- workbook (all its impressions). The N-day window is the days [as_of_date - (N-1),
    -- as_of_date]; the previous 14 days are days 15 to 28 before and including as_of_date.
    select
        case when grouping(element_id) = 1 then 'sigma_workbook' else 'sigma_workbook_element' end as resource_type,
        workbook_url_id,
        element_id,
        {%- for days in sigma_windows('impression_windows') %}
        {{ sigma_sum_bigint("case when impression_date >= " ~ sigma_window_start(days) ~ " then impression_count else 0 end") }}
            as total_impressions_{{ days }}d,
        {%- endfor %}
        {{ sigma_sum_bigint(
            "case when impression_date >= " ~ sigma_window_start(28) ~ " and impression_date < "
            ~ sigma_window_start(14) ~ " then impression_count else 0 end"
        ) }} as impressions_previous_14d,
        {{ sigma_sum_bigint("case when impression_date >= " ~ sigma_window_start(stale_days) ~ " then impression_count else 0 end") }}
            as impressions_stale_window,
        max(request_time) as last_impression_at
    from window_impressions
    group by grouping sets ((workbook_url_id, element_id), (workbook_url_id))  -- noqa: PRS

),

resource_unique_users as (

    -- Unique users: those whose last day falls in the window.
    select
        resource_type,
        workbook_url_id,
        element_id,
        count(case when last_impression_date >= {{ sigma_window_start(14) }} then 1 end) as unique_users_14d,
        count(case when last_impression_date >= {{ sigma_window_start(30) }} then 1 end) as unique_users_30d
    from resource_users
    group by resource_type, workbook_url_id, element_id

),

resource_exclusions as (

    select
        case when grouping(element_id) = 1 then 'sigma_workbook' else 'sigma_workbook_element' end as resource_type,
        workbook_url_id,
        element_id,
        {{ sigma_sum_bigint('impression_count') }} as excluded_impressions_30d
    from excluded_impressions
    group by grouping sets ((workbook_url_id, element_id), (workbook_url_id))  -- noqa: PRS

),

resource_metrics as (

    -- Zeros, not NULLs, for resources nobody viewed.
    select
        inventory_resources.resource_type,
        inventory_resources.workbook_url_id,
        inventory_resources.element_id,
        inventory_resources.created_at,
        inventory_resources.is_archived,
        inventory_resources.is_deleted,
        {%- for days in sigma_windows('impression_windows') %}
        coalesce(resource_windows.total_impressions_{{ days }}d, 0) as total_impressions_{{ days }}d,
        {%- endfor %}
        coalesce(resource_unique_users.unique_users_14d, 0) as unique_users_14d,
        coalesce(resource_unique_users.unique_users_30d, 0) as unique_users_30d,
        coalesce(resource_windows.impressions_previous_14d, 0) as impressions_previous_14d,
        coalesce(resource_windows.impressions_stale_window, 0) as impressions_stale_window,
        resource_windows.last_impression_at,
        coalesce(resource_exclusions.excluded_impressions_30d, 0) as excluded_impressions_30d,
        coalesce(history.history_start_at <= cast({{ sigma_window_start(stale_days) }} as {{ dbt.type_timestamp() }}), false)
            as has_enough_history
    from inventory_resources
    cross join history
    left join resource_windows
        on
            inventory_resources.resource_type = resource_windows.resource_type
            and inventory_resources.workbook_url_id = resource_windows.workbook_url_id
            and inventory_resources.element_id is not distinct from resource_windows.element_id
    left join resource_unique_users
        on
            inventory_resources.resource_type = resource_unique_users.resource_type
            and inventory_resources.workbook_url_id = resource_unique_users.workbook_url_id
            and inventory_resources.element_id is not distinct from resource_unique_users.element_id
    left join resource_exclusions
        on
            inventory_resources.resource_type = resource_exclusions.resource_type
            and inventory_resources.workbook_url_id = resource_exclusions.workbook_url_id
            and inventory_resources.element_id is not distinct from resource_exclusions.element_id

),

judged as (

    select
        *,
        -- Stale: nobody viewed it in the last vars.sigma_stale_after_days days, judged only once
        -- the loaded history covers that window and the workbook is older than it.
        has_enough_history
        and impressions_stale_window = 0
        and coalesce(created_at < cast({{ sigma_window_start(stale_days) }} as {{ dbt.type_timestamp() }}), true)
            as is_stale
    from resource_metrics

),

final as (

    select
        resource_type,
        workbook_url_id,
        element_id,
        is_archived,
        is_deleted,
        {%- for days in sigma_windows('impression_windows') %}
        total_impressions_{{ days }}d,
        {%- endfor %}
        unique_users_14d,
        unique_users_30d,
        last_impression_at,
        cast(
            {{ dbt.datediff("cast(last_impression_at as date)", as_of, "day") }} as {{ dbt.type_int() }}  -- noqa: LT05
        ) as days_since_last_impression,
        impressions_previous_14d,
        total_impressions_14d - impressions_previous_14d as impressions_trend_14d,
        cast(total_impressions_14d - impressions_previous_14d as {{ sigma_type_double() }})
        / nullif(impressions_previous_14d, 0) as impressions_trend_14d_pct,
        -- The trend as a reader sees it: new (nothing the 14 days before), flat, or +N% / -N%.
        case
            when impressions_previous_14d = 0 then case when total_impressions_14d > 0 then 'new' end
            when round(100.0 * (total_impressions_14d - impressions_previous_14d) / impressions_previous_14d) = 0
                then 'flat'
            else {{ dbt.concat([
                "case when total_impressions_14d > impressions_previous_14d then '+' else '' end",
                "cast(cast(round(100.0 * (total_impressions_14d - impressions_previous_14d) / impressions_previous_14d) as "
                ~ dbt.type_bigint() ~ ") as " ~ dbt.type_string() ~ ")",
                "'%'",
            ]) }}
        end as impressions_trend_14d_label,
        -- Most viewed over 30 days first (ties share a rank), then by users.
        cast(rank() over (
            partition by resource_type
            order by total_impressions_30d desc, unique_users_30d desc
        ) as {{ dbt.type_bigint() }}) as popularity_rank,
        has_enough_history,
        is_stale,
        case
            when last_impression_at is null then 'never viewed'
            when is_stale then 'stale'
            when total_impressions_30d = 0 then 'no views in 30 days'
            else 'viewed in 30 days'
        end as usage_status,
        -- A cleanup candidate: unused for 30 days (or stale) and still live in Sigma.
        (total_impressions_30d = 0 or is_stale) and not is_archived and not is_deleted as is_cleanup_candidate,
        excluded_impressions_30d
    from judged

)

select * from final
