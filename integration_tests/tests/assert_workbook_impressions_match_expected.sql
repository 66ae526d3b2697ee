-- The workbook mart's windows at as_of_date, every inventory workbook (a never opened one: zeros).
{{ rows_match(
    ref('sigma_workbook_impressions'),
    ref('expected_workbook_impressions'),
    [
        'workbook_url_id', 'workbook_name', 'owner_email',
        'total_impressions_7d', 'total_impressions_30d', 'unique_users_30d',
    ],
) }}
