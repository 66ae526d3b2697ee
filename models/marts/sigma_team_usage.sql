with

teams as (

    select * from {{ ref('stg_sigma__teams') }}
    where not is_deleted

),

memberships as (

    select * from {{ ref('int_sigma__team_memberships') }}

),

counted_impressions as (

    -- The counted impressions of the last 30 days (sigma_user_activity's).
    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where exclusion_reason is null and impression_date >= {{ sigma_window_start(30) }} and impression_date <= {{ sigma_window_start(1) }}

),

team_rows as (

    select
        team_id,
        team_name
    from teams

    union all

    select
        cast(null as {{ dbt.type_string() }}) as team_id,
        '(no team)' as team_name

),

team_impressions as (

    -- An impression counts for each team of its user; for (no team) when the user is in none
    -- (synced member or not).
    select
        in_team.team_id,
        counted_impressions.user_email,
        counted_impressions.workbook_url_id,
        counted_impressions.impression_date,
        counted_impressions.impression_count
    from counted_impressions
    left join memberships as in_team
        on
            counted_impressions.user_email = in_team.user_email
            and in_team.team_id is not null

),

team_activity as (

    select
        team_id,
        {{ sigma_sum_bigint('impression_count') }} as impressions_30d,
        cast(count(distinct workbook_url_id) as {{ dbt.type_bigint() }}) as workbooks_viewed_30d
    from team_impressions
    group by team_id

),

active_users as (

    -- Users with a counted impression in the 14-day window.
    select distinct user_email
    from counted_impressions
    where impression_date >= {{ sigma_window_start(14) }}

),

team_members as (

    -- The synced members of each team, and those in no team, and how many of them are active.
    select
        memberships.team_id,
        cast(count(distinct memberships.user_email) as {{ dbt.type_bigint() }}) as member_count,
        cast(count(distinct active_users.user_email) as {{ dbt.type_bigint() }}) as active_members_14d
    from memberships
    left join active_users
        on memberships.user_email = active_users.user_email
    group by memberships.team_id

),

final as (

    select
        team_rows.team_id,
        team_rows.team_name,
        coalesce(team_members.member_count, 0) as member_count,
        coalesce(team_members.active_members_14d, 0) as active_members_14d,
        coalesce(team_activity.impressions_30d, 0) as impressions_30d,
        coalesce(team_activity.workbooks_viewed_30d, 0) as workbooks_viewed_30d
    from team_rows
    left join team_members
        on team_rows.team_id is not distinct from team_members.team_id
    left join team_activity
        on team_rows.team_id is not distinct from team_activity.team_id

)

select * from final
