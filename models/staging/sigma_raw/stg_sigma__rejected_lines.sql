with

source as (

    select * from {{ source('sigma_raw', 'rejected_lines') }}

),

renamed as (

    select
        _file_uri,
        line_number,
        error,
        raw_text,
        _loaded_at,
        _integration_name
    from source

)

select * from renamed
