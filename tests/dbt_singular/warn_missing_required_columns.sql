-- Data problem (warns, never fails the build): a loaded file with records but no header
-- feeding a required column (request_time, user_email, workbook_url_id) after normalization
-- and vars.sigma_column_aliases; its rows are rejected as missing_<column>.
{{ config(severity='warn') }}

{%- set aliases = sigma_column_aliases() %}

with

loaded_files as (

    select
        file_uri,
        headers
    from {{ source('sigma_raw', 'loaded_files') }}
    where status = 'loaded' and rows_loaded > 0

),

file_headers as (

    select
        file_uri,
        {{ sigma_unnest('headers') }} as header_name
    from loaded_files

),

normalized_headers as (

    select
        file_uri,
        {{ sigma_normalize_header_sql('header_name') }} as normalized_header
    from file_headers

),

required_aliases as (

    {%- for canonical in ["request_time", "user_email", "workbook_url_id"] %}
    {%- set outer_loop = loop %}
    {%- for alias in aliases[canonical] %}
    select
        '{{ canonical }}' as required_column,
        '{{ alias }}' as alias_name
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}

),

required_columns as (

    select distinct required_column
    from required_aliases

),

fed_columns as (

    select distinct
        normalized_headers.file_uri,
        required_aliases.required_column
    from normalized_headers
    inner join required_aliases
        on normalized_headers.normalized_header = required_aliases.alias_name

)

select
    loaded_files.file_uri,
    required_columns.required_column
from loaded_files
cross join required_columns
left join fed_columns
    on
        loaded_files.file_uri = fed_columns.file_uri
        and required_columns.required_column = fed_columns.required_column
where fed_columns.file_uri is null
