-- Data problem (warns, never fails the build): view-event records not counted, per file and reason.
{{ config(severity='warn') }}

select
    _file_uri,
    reason,
    count(*) as records
from {{ ref('sigma_rejected_impressions') }}
group by _file_uri, reason
