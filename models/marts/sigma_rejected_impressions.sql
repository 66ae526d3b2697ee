with

rejected_rows as (

    select * from {{ ref('int_sigma__export_rows') }}
    where rejection_reason is not null

),

rejected_lines as (

    select * from {{ ref('stg_sigma__rejected_lines') }}

),

unioned as (

    select
        _file_uri,
        _file_row_number,
        cast(null as {{ dbt.type_bigint() }}) as line_number,
        rejection_reason as reason,
        raw_request_time,
        raw_user_email,
        raw_workbook_url_id,
        raw_element_id,
        raw_count,
        cast(null as {{ dbt.type_string() }}) as raw_text,
        cast(null as {{ dbt.type_string() }}) as error,
        _loaded_at
    from rejected_rows

    union all

    select
        _file_uri,
        cast(null as {{ dbt.type_bigint() }}) as _file_row_number,
        line_number,
        'malformed_line' as reason,
        cast(null as {{ dbt.type_string() }}) as raw_request_time,
        cast(null as {{ dbt.type_string() }}) as raw_user_email,
        cast(null as {{ dbt.type_string() }}) as raw_workbook_url_id,
        cast(null as {{ dbt.type_string() }}) as raw_element_id,
        cast(null as {{ dbt.type_string() }}) as raw_count,
        raw_text,
        error,
        _loaded_at
    from rejected_lines

)

select * from unioned
