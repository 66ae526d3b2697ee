-- Deduplication: no file holding a valid row with an event's key is later (last_modified,
-- then file_uri) than the event's winning file, and the winner holds the key with the event's
-- count. Checks the events recomputed and the file rows landed in the data-test scope (since
-- the last build whose data tests all passed; everything when it is whole tables): each event
-- is checked whenever it is recomputed. One join of the events with their files' rows: the
-- winner's last_modified comes from the landed file versions, not from a second join.
with

impressions as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where not is_removed and {{ sigma_recent_predicate('_deduplicated_at') }}

),

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}
    where is_loaded

),

file_events as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_per_file') }}

),

winners as (

    select
        impressions.impression_id,
        impressions._file_uri,
        impressions.impression_count,
        loaded_files.last_modified as file_last_modified
    from impressions
    left join loaded_files
        on
            impressions._file_uri = loaded_files.file_uri
            and impressions._loaded_at = loaded_files.loaded_at

),

checked_winners as (

    select
        winners.impression_id,
        winners._file_uri,
        max(
            case
                when
                    file_events._file_uri = winners._file_uri
                    and file_events.impression_count = winners.impression_count
                    then 1
                else 0
            end
        ) as winner_holds_key,
        sum(
            case
                when
                    file_events.file_last_modified > winners.file_last_modified
                    or (
                        file_events.file_last_modified = winners.file_last_modified
                        and file_events._file_uri > winners._file_uri
                    )
                    then 1
                else 0
            end
        ) as later_files
    from winners
    left join file_events
        on winners.impression_id = file_events.impression_id
    group by winners.impression_id, winners._file_uri

),

winner_problems as (

    select
        impression_id,
        _file_uri,
        case
            when winner_holds_key = 0 then 'winning file does not hold the key or its count differs'
            else 'a later file holds the key'
        end as problem
    from checked_winners
    where winner_holds_key = 0 or later_files > 0

),

recent_file_events as (

    select * from {{ ref('int_sigma__impressions_per_file') }}
    where {{ sigma_recent_predicate('_loaded_at') }}

),

live_impressions as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where not is_removed

),

keys_without_event as (

    select
        recent_file_events.impression_id,
        recent_file_events._file_uri,
        'a valid key is missing from fct' as problem
    from recent_file_events
    left join live_impressions
        on recent_file_events.impression_id = live_impressions.impression_id
    where live_impressions.impression_id is null

)

select * from winner_problems
union all
select * from keys_without_event
