with

source as (

    select * from {{ source('sigma_raw', 'loaded_files') }}

),

renamed as (

    select
        file_uri,
        etag,
        size_bytes,
        last_modified,
        rows_loaded,
        rows_rejected,
        status,
        error,
        loaded_at,
        integration_name,
        status = 'loaded' as is_loaded
    from source

)

select * from renamed
