with

workbooks as (

    select * from {{ ref('stg_sigma__workbooks') }}

),

memberships as (

    select * from {{ ref('int_sigma__team_memberships') }}
    where team_id is not null

),

counted_impressions as (

    -- Counted impressions of inventory workbooks in the last 30 days (element impressions
    -- count for their workbook).
    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where
        exclusion_reason is null
        and is_known_workbook
        and impression_date >= {{ sigma_window_start(30) }}
        and impression_date <= {{ sigma_window_start(1) }}

),

team_impressions as (

    -- For each team of the user; (no team) when the user is in none.
    select
        memberships.team_id,
        counted_impressions.workbook_url_id,
        counted_impressions.user_email,
        counted_impressions.impression_count,
        coalesce(memberships.team_name, '(no team)') as team_name
    from counted_impressions
    left join memberships
        on counted_impressions.user_email = memberships.user_email

),

final as (

    select
        team_impressions.team_id,
        team_impressions.team_name,
        team_impressions.workbook_url_id,
        workbooks.workbook_name,
        {{ sigma_sum_bigint('team_impressions.impression_count') }} as impressions_30d,
        cast(count(distinct team_impressions.user_email) as {{ dbt.type_bigint() }}) as users_30d
    from team_impressions
    inner join workbooks
        on team_impressions.workbook_url_id = workbooks.workbook_url_id
    group by
        team_impressions.team_id,
        team_impressions.team_name,
        team_impressions.workbook_url_id,
        workbooks.workbook_name

)

select * from final
