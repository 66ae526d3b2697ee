-- Deduplication: no file holding a valid row with an event's key is later (last_modified,
-- then file_uri) than the event's winning file, and the winner holds the key. Checks the
-- events recomputed and the file rows landed in the data-test scope (since the last build
-- whose data tests all passed; everything when it is whole tables): each event is checked whenever it is recomputed.
with

impressions as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where not is_removed and {{ sigma_recent_predicate('_deduplicated_at') }}

),

live_impressions as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_deduplicated') }}
    where not is_removed

),

file_events as {{ sigma_inline_cte() }} (

    select * from {{ ref('int_sigma__impressions_per_file') }}

),

recent_file_events as (

    select * from file_events
    where {{ sigma_recent_predicate('_loaded_at') }}

),

{% if (sigma_recent_predicate('_loaded_at') | trim) != "true" %}

checked_keys as (

    -- The keys in scope: the checks below read the file rows and events of these keys only,
    -- so a daily build reads each large table once, for the few keys written since.
    select impression_id from impressions
    union
    select impression_id from recent_file_events

),

key_file_events as (

    select * from file_events
    where impression_id in (select checked_keys.impression_id from checked_keys)

),

key_live_impressions as (

    select * from live_impressions
    where impression_id in (select recent_file_events.impression_id from recent_file_events)

),

{% else %}

key_file_events as {{ sigma_inline_cte() }} (

    select * from file_events

),

key_live_impressions as {{ sigma_inline_cte() }} (

    select * from live_impressions

),

{% endif %}

winners as (

    select
        impressions.impression_id,
        impressions._file_uri,
        impressions.impression_count,
        file_events.file_last_modified,
        file_events.impression_count as file_impression_count
    from impressions
    left join key_file_events as file_events
        on
            impressions.impression_id = file_events.impression_id
            and impressions._file_uri = file_events._file_uri

),

missing_winners as (

    select
        impression_id,
        _file_uri,
        'winning file does not hold the key or its count differs' as problem
    from winners
    where file_last_modified is null or impression_count <> file_impression_count

),

later_files as (

    select
        winners.impression_id,
        file_events._file_uri,
        'a later file holds the key' as problem
    from winners
    inner join key_file_events as file_events
        on winners.impression_id = file_events.impression_id
    where
        file_events.file_last_modified > winners.file_last_modified
        or (
            file_events.file_last_modified = winners.file_last_modified
            and file_events._file_uri > winners._file_uri
        )

),

keys_without_event as (

    select
        recent_file_events.impression_id,
        recent_file_events._file_uri,
        'a valid key is missing from fct' as problem
    from recent_file_events
    left join key_live_impressions as live_impressions
        on recent_file_events.impression_id = live_impressions.impression_id
    where live_impressions.impression_id is null

)

select * from missing_winners
union all
select * from later_files
union all
select * from keys_without_event
