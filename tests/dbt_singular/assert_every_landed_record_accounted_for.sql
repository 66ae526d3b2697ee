-- Every landed row is either valid or in sigma_rejected_impressions (once), and every line
-- the loader rejected is there as malformed_line. Counts the files landed in the last
-- vars.sigma_data_test_days days (all when it is null).
with

invalid_rows as (

    select count(*) as records
    from {{ ref('stg_sigma__impression_rows') }}
    where not is_valid and {{ sigma_recent_predicate('_loaded_at') }}

),

loader_rejected_lines as (

    select count(*) as records
    from {{ ref('stg_sigma__rejected_lines') }}
    where {{ sigma_recent_predicate('_loaded_at') }}

),

rejected_rows as (

    select count(*) as records
    from {{ ref('sigma_rejected_impressions') }}
    where reason <> 'malformed_line' and {{ sigma_recent_predicate('_loaded_at') }}

),

malformed_lines as (

    select count(*) as records
    from {{ ref('sigma_rejected_impressions') }}
    where reason = 'malformed_line' and {{ sigma_recent_predicate('_loaded_at') }}

)

select
    invalid_rows.records as invalid_rows,
    rejected_rows.records as rejected_rows,
    loader_rejected_lines.records as loader_rejected_lines,
    malformed_lines.records as malformed_lines
from invalid_rows
cross join rejected_rows
cross join loader_rejected_lines
cross join malformed_lines
where
    invalid_rows.records <> rejected_rows.records
    or loader_rejected_lines.records <> malformed_lines.records
