with

teams as (

    select * from {{ ref('stg_sigma__teams') }}
    where not is_deleted

),

members as (

    select * from {{ ref('stg_sigma__members') }}
    where not is_deleted

),

team_members as (

    select * from {{ ref('stg_sigma__team_members') }}

),

memberships as (

    -- Listed members of listed teams: a member in two teams has two rows.
    select distinct
        teams.team_id,
        teams.team_name,
        members.email as user_email
    from team_members
    inner join teams
        on team_members.team_id = teams.team_id
    inner join members
        on team_members.member_id = members.member_id

),

members_in_no_team as (

    select distinct
        cast(null as {{ dbt.type_string() }}) as team_id,
        '(no team)' as team_name,
        members.email as user_email
    from members
    left join memberships
        on members.email = memberships.user_email
    where memberships.user_email is null

),

final as (

    select * from memberships
    union all
    select * from members_in_no_team

)

select * from final
