-- The element mart: element events count for their element, with the inventory's type and page.
{{ rows_match(
    ref('sigma_element_impressions'),
    ref('expected_element_impressions'),
    ['workbook_url_id', 'element_id', 'element_type', 'page_name', 'total_impressions_7d'],
) }}
