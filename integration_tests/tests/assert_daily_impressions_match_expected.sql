-- sigma_daily_impressions holds exactly the expected rows: the later file's corrected count
-- wins, the rejected row and the unknown workbook count nowhere.
{{ rows_match(
    ref('sigma_daily_impressions'),
    ref('expected_daily_impressions'),
    ['impression_date', 'workbook_url_id', 'workbook_name', 'impressions', 'unique_users'],
) }}
