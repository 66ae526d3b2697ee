-- depends_on: {{ ref('int_sigma__impressions_deduplicated') }}
{#- Incremental per (workbook, user): a run recomputes the pairs whose rows can have changed
    since the build recorded in sigma_model_state (macros/sigma_model_state.sql), every row of
    such a pair (its workbook row and its element rows), and leaves the others as they are:
    - pairs with an event recomputed or removed since that build (int_sigma__impressions_deduplicated
      keeps removal rows, so a pair whose rows all went is found too);
    - pairs with rollup rows on a day that entered or left the windows since (as_of_date moved).
    Rebuilt whole on a full build, without a recorded state of the same definition (parse
    signature, `used` window), or when the windows no longer overlap. -#}
{%- set window = sigma_resource_users_window() %}
{%- set first_day, as_of = window.first_day, window.last_day %}
{%- set plan = sigma_window_model_plan(window) %}
{%- set state = plan.state %}
{%- set rebuild_all = plan.rebuild_all %}

{{
    config(
        materialized=sigma_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['workbook_url_id', 'user_email'],
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ sigma_clear_when_rebuilding(sigma_resource_users_window()) }}",
        ],
        post_hook=[
            "{{ sigma_incremental_hook('delete from ' ~ this ~ ' where resource_type is null') }}",
            "{{ sigma_record_model_state(sigma_resource_users_window()) }}",
        ],
    )
}}

with

{% if not rebuild_all %}

{%- set used_days = sigma_used_window_days() - 1 %}
{%- set previous_used_first_day = state.window_last_day - modules.datetime.timedelta(days=used_days) %}
{%- set used_first_day = as_of - modules.datetime.timedelta(days=used_days) %}

recomputed_pair_events as (

    -- Events recomputed (or removed) since the recorded build.
    select
        workbook_url_id,
        user_email
    from {{ ref('int_sigma__impressions_deduplicated') }}
    where _deduplicated_at > {{ state.built_through }}

),

moved_window_pair_days as (

    -- Rollup rows on a day in one of the two builds' windows but not the other (the users'
    -- window, or the `used` window inside it).
    select
        workbook_url_id,
        user_email
    from {{ ref('int_sigma__impressions_daily') }}
    where
        user_email is not null
        {%- if state.window_first_day == first_day and state.window_last_day == as_of %}
        and false
        {%- else %}
        and (
            (impression_date between {{ sigma_date_literal(state.window_first_day) }} and {{ sigma_date_literal(state.window_last_day) }})
            <> (impression_date between {{ sigma_date_literal(first_day) }} and {{ sigma_date_literal(as_of) }})
            or (impression_date between {{ sigma_date_literal(previous_used_first_day) }} and {{ sigma_date_literal(state.window_last_day) }})
            <> (impression_date between {{ sigma_date_literal(used_first_day) }} and {{ sigma_date_literal(as_of) }})
        )
        {%- endif %}

),

changed_pairs as (

    select workbook_url_id, user_email from recomputed_pair_events
    union
    select workbook_url_id, user_email from moved_window_pair_days

),

user_days as (

    -- The changed pairs' rows in the days of the windows that count users.
    select daily.*
    from {{ ref('int_sigma__impressions_daily') }} as daily
    inner join changed_pairs
        on
            daily.workbook_url_id = changed_pairs.workbook_url_id
            and daily.user_email = changed_pairs.user_email
    where
        daily.impression_date >= {{ sigma_date_literal(first_day) }}
        and {{ sigma_day_before_window_end('daily.impression_date') }}

),

{% else %}

user_days as (

    -- Only the days of the windows that count users; the inventory is applied per resource.
    select * from {{ ref('int_sigma__impressions_daily') }}
    where
        impression_date >= {{ sigma_date_literal(first_day) }}
        and {{ sigma_day_before_window_end('impression_date') }}

),

{% endif %}

element_users as (

    -- Per workbook, element (NULL for workbook-level events) and user.
    select
        workbook_url_id,
        element_id,
        user_email,
        {{ sigma_resource_user_aggregates() }}
    from user_days
    group by workbook_url_id, element_id, user_email

),

workbook_users as (

    -- A workbook's user: that user's rows of the workbook (any element, or none).
    select
        'sigma_workbook' as resource_type,
        workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as element_id,
        user_email,
        {{ sigma_resource_user_rollup() }}
    from element_users
    group by workbook_url_id, user_email

),

element_resource_users as (

    -- An element's user: the element's rows as they are.
    select
        'sigma_workbook_element' as resource_type,
        workbook_url_id,
        element_id,
        user_email,
        impressions_used_window,
        last_impression_used_window_at,
        last_impression_date
    from element_users
    where element_id is not null

),

{% if not rebuild_all %}

pair_markers as (

    -- One row per changed pair (resource_type NULL): the post-hook drops these.
    {{ sigma_marker_rows('changed_pairs', [
        ('resource_type', dbt.type_string()),
        ('workbook_url_id', none),
        ('element_id', dbt.type_string()),
        ('user_email', none),
        ('impressions_used_window', dbt.type_bigint()),
        ('last_impression_used_window_at', dbt.type_timestamp()),
        ('last_impression_date', 'date'),
    ]) }}

),

{% endif %}

final as (

    select * from workbook_users
    union all
    select * from element_resource_users
    {%- if not rebuild_all %}
    union all
    select * from pair_markers
    {%- endif %}

)

select * from final
