-- Data problem (warns, never fails the build): export files whose rows do not count, and why
-- (a file that cannot be read, a required column missing, no view events).
{{ config(severity='warn') }}

select
    file_uri,
    problem
from {{ ref('sigma_export_files') }}
where is_blocking
