-- Nothing is lost between the loader and the models: for every loaded file, the rows of its
-- landed version that the models read equal the records the manifest says landed, and the
-- malformed lines equal the records the loader rejected.
with

loaded_files as (

    select * from {{ ref('stg_sigma__loaded_files') }}
    where is_loaded

),

export_rows as (

    select
        _file_uri,
        count(*) as records
    from {{ ref('int_sigma__export_rows') }}
    group by _file_uri

),

rejected_lines as (

    select
        _file_uri,
        count(*) as records
    from {{ ref('stg_sigma__rejected_lines') }}
    group by _file_uri

),

accounted as (

    select
        loaded_files.file_uri,
        loaded_files.rows_loaded,
        loaded_files.rows_rejected,
        coalesce(export_rows.records, 0) as rows_read,
        coalesce(rejected_lines.records, 0) as lines_rejected
    from loaded_files
    left join export_rows
        on loaded_files.file_uri = export_rows._file_uri
    left join rejected_lines
        on loaded_files.file_uri = rejected_lines._file_uri

)

select * from accounted
where rows_loaded <> rows_read or rows_rejected <> lines_rejected
