-- Teams from the synced API tables: a member in a team, an empty team, the members in no team
-- (a deleted member and a disbanded team count nowhere).
{{ rows_match(
    ref('sigma_team_usage'),
    ref('expected_team_usage'),
    ['team_id', 'team_name', 'member_count', 'active_members_14d', 'impressions_30d', 'workbooks_viewed_30d'],
) }}
