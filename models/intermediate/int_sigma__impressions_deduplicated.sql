{{ config(materialized='table') }}

{%- set excluded_user_patterns = sigma_excluded_user_patterns() %}
{%- set excluded_member_types = sigma_excluded_member_types() %}

with

impression_rows as (

    select * from {{ ref('int_sigma__export_rows') }}
    where is_impression

),

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}

),

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

workbook_elements as (

    select * from {{ ref('stg_sigma__workbook_elements') }}

),

listed_members as (

    -- Members Sigma lists now (one per email): users it does not list are never excluded by
    -- their account type.
    select
        email,
        max(lower(member_type)) as member_type
    from {{ ref('stg_sigma__members') }}
    where not is_deleted
    group by email

),

file_events as (

    -- An event (request_time, user_email, workbook_url_id, element_id) as one file holds it:
    -- that file's rows of the event add up.
    select
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        file_recency,
        {{ sigma_sum_bigint('impression_count') }} as impression_count
    from impression_rows
    group by request_time, user_email, workbook_url_id, element_id, file_recency

),

events as (

    -- Exports overlap and Sigma delivers at least once: the most recently modified file holding
    -- the event wins (ties: the greatest file URI), so a re-sent or corrected event counts once.
    select
        request_time,
        user_email,
        workbook_url_id,
        element_id,
        max(file_recency) as file_recency,
        max_by(impression_count, file_recency) as impression_count
    from file_events
    group by request_time, user_email, workbook_url_id, element_id

),

resolved as (

    -- Onto the inventory, and who counts: the first exclusion rule that applies is the reason
    -- (a rule left empty matches nothing).
    select
        events.request_time,
        cast(events.request_time as date) as impression_date,
        events.user_email,
        events.workbook_url_id,
        events.element_id,
        events.impression_count,
        case when events.element_id is null then 'sigma_workbook' else 'sigma_workbook_element' end as resource_type,
        loaded_files.file_uri as _file_uri,
        workbooks.workbook_url_id is not null as is_known_workbook,
        workbooks.workbook_url_id is not null and workbook_elements.element_id is not null as is_known_element,
        case
            when workbooks.workbook_url_id is null then 'unknown_workbook'
            when events.element_id is not null and workbook_elements.element_id is null then 'unknown_element'
        end as unmatched_reason,
        case
            when {{ sigma_like_any('events.user_email', excluded_user_patterns) }}
                then 'user_pattern'
            when listed_members.member_type in ({{ (excluded_member_types or ['null']) | join(', ') }})
                then 'member_type'
            when {{ 'true' if sigma_exclude_owner_views() else 'false' }} and events.user_email = workbooks.owner_email
                then 'owner_view'
        end as exclusion_reason
    from events
    inner join loaded_files
        on events.file_recency = loaded_files.file_recency
    left join workbooks
        on events.workbook_url_id = workbooks.workbook_url_id
    left join workbook_elements
        on
            events.workbook_url_id = workbook_elements.workbook_url_id
            and events.element_id = workbook_elements.element_id
    left join listed_members
        on events.user_email = listed_members.email

)

select * from resolved
