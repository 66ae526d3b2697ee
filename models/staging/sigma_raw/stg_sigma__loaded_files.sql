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
        headers,
        rows_loaded,
        rows_rejected,
        status,
        error,
        loaded_at,
        integration_name,
        -- Which canonical columns the file's header feeds (vars.sigma_column_aliases).
        {%- for canonical in sigma_canonical_columns() %}
        {{ sigma_headers_feed('headers', canonical) }} as has_{{ canonical }}_column,
        {%- endfor %}
        status = 'loaded' as is_loaded,
        -- The files from the least to the most recently modified (ties: by URI): the most
        -- recent file holding an event wins it.
        row_number() over (order by last_modified, file_uri) as file_recency
    from source

)

select * from renamed
