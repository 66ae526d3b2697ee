-- Deduplication: no file holding a valid row with an event's key is later (last_modified,
-- then file_uri) than the event's winning file, and the winner holds the key.
with

impressions as (

    select * from {{ ref('fct_sigma_impressions') }}

),

file_events as (

    select * from {{ ref('int_sigma__impressions_per_file') }}

),

winners as (

    select
        impressions.impression_id,
        impressions._file_uri,
        impressions.impression_count,
        file_events.file_last_modified,
        file_events.impression_count as file_impression_count
    from impressions
    left join file_events
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
    inner join file_events
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
        file_events.impression_id,
        file_events._file_uri,
        'a valid key is missing from fct' as problem
    from file_events
    left join impressions
        on file_events.impression_id = impressions.impression_id
    where impressions.impression_id is null

)

select * from missing_winners
union all
select * from later_files
union all
select * from keys_without_event
