-- Data problem (warns, never fails the build): impressions whose workbook or element is missing
-- from the inventory.
{{ config(severity='warn') }}

select
    workbook_url_id,
    element_id,
    reason,
    impressions
from {{ ref('sigma_unmatched_impressions') }}
