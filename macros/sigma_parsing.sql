{#-
    Value parsing to the rules each macro's comment states (timestamps, counts, emails, ids).
    Portable through adapter.dispatch: default__ versions use ANSI-ish SQL (regexp_like /
    regexp_substr), duckdb__ versions DuckDB's functions.
-#}

{#- Trim spaces, tabs, CR and LF (blank after trim = missing). -#}
{% macro sigma_trim(expression) -%}
    {{ return(adapter.dispatch("sigma_trim", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_trim(expression) -%}
    trim({{ expression }})
{%- endmacro %}

{#- DuckDB's trim with a character list costs about five times a look at the first and last
    character: a text whose first and last characters are above U+0020 (all six trimmed
    characters are at or below it) is returned as it is, without calling trim. -#}
{% macro duckdb__sigma_trim(expression) -%}
    case
        when ascii({{ expression }}) > 32 and ascii(({{ expression }})[-1]) > 32 then {{ expression }}
        else trim({{ expression }}, chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12))
    end
{%- endmacro %}

{% macro spark__sigma_trim(expression) -%}
    trim(both concat(chr(32), chr(9), chr(10), chr(13), chr(11), chr(12)) from {{ expression }})
{%- endmacro %}

{#- Leading zeros removed ('' when all zeros). -#}
{% macro sigma_ltrim_zeros(expression) -%}
    {{ return(adapter.dispatch("sigma_ltrim_zeros", "sigma_impressions")(expression)) }}
{%- endmacro %}

{% macro default__sigma_ltrim_zeros(expression) -%}
    ltrim({{ expression }}, '0')
{%- endmacro %}

{#- Spark's two-argument ltrim takes the characters first: the standard form is unambiguous. -#}
{% macro spark__sigma_ltrim_zeros(expression) -%}
    trim(leading '0' from {{ expression }})
{%- endmacro %}

{#- Whole-string regular expression match. -#}
{% macro sigma_regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch("sigma_regexp_full_match", "sigma_impressions")(expression, pattern)) }}
{%- endmacro %}

{% macro default__sigma_regexp_full_match(expression, pattern) -%}
    regexp_like({{ expression }}, '^(?:{{ pattern }})$')
{%- endmacro %}

{% macro duckdb__sigma_regexp_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__sigma_regexp_full_match(expression, pattern) -%}
    ({{ expression }} rlike {{ sigma_string_literal("^(?:" ~ pattern ~ ")$") }})
{%- endmacro %}

{#- Capture group `group` of the first match ('' or NULL when it did not take part). -#}
{% macro sigma_regexp_group(expression, pattern, group) -%}
    {{ return(adapter.dispatch("sigma_regexp_group", "sigma_impressions")(expression, pattern, group)) }}
{%- endmacro %}

{% macro default__sigma_regexp_group(expression, pattern, group) -%}
    regexp_substr({{ expression }}, '{{ pattern }}', 1, 1, 'e', {{ group }})
{%- endmacro %}

{% macro duckdb__sigma_regexp_group(expression, pattern, group) -%}
    regexp_extract({{ expression }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{#- Spark's regexp_extract gives '' for no match or a group that did not take part, as DuckDB's. -#}
{% macro spark__sigma_regexp_group(expression, pattern, group) -%}
    regexp_extract({{ expression }}, {{ sigma_string_literal(pattern) }}, {{ group }})
{%- endmacro %}

{#- `timestamp` plus `minutes` (an integer expression), keeping the fraction of a second. -#}
{% macro sigma_add_minutes(minutes, timestamp) -%}
    {{ return(adapter.dispatch("sigma_add_minutes", "sigma_impressions")(minutes, timestamp)) }}
{%- endmacro %}

{% macro default__sigma_add_minutes(minutes, timestamp) -%}
    {{ dbt.dateadd("minute", minutes, timestamp) }}
{%- endmacro %}

{#- dbt-spark's dateadd goes through unix seconds (losing the fraction): timestampadd keeps it. -#}
{% macro spark__sigma_add_minutes(minutes, timestamp) -%}
    timestampadd(minute, {{ minutes }}, {{ timestamp }})
{%- endmacro %}

{#- The accepted request_time form, applied to the trimmed, lower-cased text. The date and
    hour:minute sit at fixed positions; the groups are 1 second, 2 fraction, 3 offset sign,
    4 offset hours, 5 offset minutes (non-capturing elsewhere: DuckDB allows groups 0-9). -#}
{% macro sigma_timestamp_pattern() -%}
    {{ return("^[0-9]{4}-[0-9]{2}-[0-9]{2}[t ][0-9]{2}:[0-9]{2}(?::([0-9]{2})(?:\\.([0-9]+))?)? ?(?:z|utc|([+-])([0-9]{2})(?::?([0-9]{2}))?)?$") }}
{%- endmacro %}

{#- One integer capture group of a timestamp text (NULL when absent). -#}
{% macro sigma_timestamp_group(text, group) -%}
    {{ sigma_safe_cast("nullif(" ~ sigma_regexp_group(text, sigma_timestamp_pattern(), group) ~ ", '')", dbt.type_int()) }}
{%- endmacro %}

{#- The integer at fixed 1-based position `start` (`length` characters) of a timestamp text. -#}
{% macro sigma_timestamp_digits(text, start, length) -%}
    {{ sigma_safe_cast("substr(" ~ text ~ ", " ~ start ~ ", " ~ length ~ ")", dbt.type_int()) }}
{%- endmacro %}

{#-
    request_time text -> TIMESTAMP in UTC, or NULL when it does not follow the rule:
    `YYYY-MM-DD HH:MM[:SS[.fraction]]`, `T` or space, then optionally (after at most one space)
    `Z`, `UTC`, `+HH`, `+HHMM` or `+HH:MM` (or `-`); letters in any case; a real calendar date,
    hours 00-23, minutes and seconds 00-59, offset hours 00-23 and minutes 00-59; the fraction
    is truncated to microseconds; no zone means UTC; the offset is applied.
    `text` must already be trimmed (NULL or '' gives NULL).
-#}
{% macro sigma_parse_timestamp(text) -%}
    {{ return(adapter.dispatch("sigma_parse_timestamp", "sigma_impressions")(text)) }}
{%- endmacro %}

{#- The rule above in portable SQL: one pattern with capture groups, fields cast and checked. -#}
{% macro default__sigma_parse_timestamp(text) -%}
    {%- set lowered = "lower(" ~ text ~ ")" -%}
    {%- set year = sigma_timestamp_digits(lowered, 1, 4) -%}
    {%- set month = sigma_timestamp_digits(lowered, 6, 2) -%}
    {%- set day = sigma_timestamp_digits(lowered, 9, 2) -%}
    {%- set hour = sigma_timestamp_digits(lowered, 12, 2) -%}
    {%- set minute = sigma_timestamp_digits(lowered, 15, 2) -%}
    {%- set second = "coalesce(" ~ sigma_timestamp_group(lowered, 1) ~ ", 0)" -%}
    {%- set fraction = "coalesce(" ~ sigma_regexp_group(lowered, sigma_timestamp_pattern(), 2) ~ ", '')" -%}
    {%- set sign = sigma_regexp_group(lowered, sigma_timestamp_pattern(), 3) -%}
    {%- set offset_hours = "coalesce(" ~ sigma_timestamp_group(lowered, 4) ~ ", 0)" -%}
    {%- set offset_minutes = "coalesce(" ~ sigma_timestamp_group(lowered, 5) ~ ", 0)" -%}
    {%- set leap_year = "(mod(" ~ year ~ ", 4) = 0 and (mod(" ~ year ~ ", 100) <> 0 or mod(" ~ year ~ ", 400) = 0))" -%}
    case
        when
            {{ sigma_regexp_full_match(lowered, sigma_timestamp_pattern()) }}
            and {{ month }} between 1 and 12
            and {{ day }} between 1 and case
                when {{ month }} in (1, 3, 5, 7, 8, 10, 12) then 31
                when {{ month }} in (4, 6, 9, 11) then 30
                when {{ leap_year }} then 29
                else 28
            end
            and {{ hour }} <= 23
            and {{ minute }} <= 59
            and {{ second }} <= 59
            and {{ offset_hours }} <= 23
            and {{ offset_minutes }} <= 59
            then {{ sigma_add_minutes(
                "(case when " ~ sign ~ " = '+' then -1 else 1 end) * (" ~ offset_hours ~ " * 60 + " ~ offset_minutes ~ ")",
                "cast(" ~ dbt.concat([
                    "substr(" ~ lowered ~ ", 1, 10)",
                    "' '",
                    "substr(" ~ lowered ~ ", 12, 5)",
                    "':'",
                    "lpad(cast(" ~ second ~ " as " ~ dbt.type_string() ~ "), 2, '0')",
                    "'.'",
                    "rpad(substr(" ~ fraction ~ ", 1, 6), 6, '0')",
                ]) ~ " as " ~ dbt.type_timestamp() ~ ")"
            ) }}
    end
{%- endmacro %}

{#- The same rule on DuckDB: the common form `YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z]` (`T` and `Z` upper
    case, 1 to 6 fraction digits, `Z` only after seconds, every field in range) is one full match
    and DuckDB's own ISO 8601 cast (NULL for a day the month does not have); any other text takes
    the portable form above. tests/functional/test_parsing_forms.py holds both forms and an
    independent reading of the rule equal over a large set of generated texts. -#}
{% macro duckdb__sigma_parse_timestamp(text) -%}
    {%- set common_shape = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?Z?)?" -%}
    case
        when regexp_full_match({{ text }}, '{{ common_shape }}') then try_cast({{ text }} as timestamp)
        else {{ default__sigma_parse_timestamp(text) }}
    end
{%- endmacro %}

{#-
    count text -> BIGINT, with the rule: missing column or empty value means 1; otherwise
    digits, optionally followed by `.` and zeros (`3`, `03`, `3.0`), from 1 to the BIGINT
    maximum. Anything else gives NULL (the row is rejected as invalid_count).
    `text` must already be trimmed.
-#}
{% macro sigma_parse_count(text) -%}
    {{ return(adapter.dispatch("sigma_parse_count", "sigma_impressions")(text)) }}
{%- endmacro %}

{% macro default__sigma_parse_count(text) -%}
    {%- set digits = sigma_ltrim_zeros(sigma_regexp_group(text, "^([0-9]+)", 1)) -%}
    case
        when {{ text }} is null or {{ text }} = '' then 1
        when
            {{ sigma_regexp_full_match(text, "[0-9]+(\\.0+)?") }}
            and {{ digits }} <> ''
            and (
                {{ dbt.length(digits) }} < 19
                or ({{ dbt.length(digits) }} = 19 and {{ digits }} <= '9223372036854775807')
            )
            then cast({{ digits }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#- The same rule on DuckDB: the common count (1 to 18 digits, no leading zero, so always within
    BIGINT) is one full match and a cast; any other text takes the portable form above. -#}
{% macro duckdb__sigma_parse_count(text) -%}
    case
        when regexp_full_match({{ text }}, '[1-9][0-9]{0,17}') then cast({{ text }} as {{ dbt.type_bigint() }})
        else {{ default__sigma_parse_count(text) }}
    end
{%- endmacro %}

{#- A cast that yields NULL instead of failing (dbt.safe_cast is a plain cast on DuckDB). -#}
{% macro sigma_safe_cast(expression, type) -%}
    {{ return(adapter.dispatch("sigma_safe_cast", "sigma_impressions")(expression, type)) }}
{%- endmacro %}

{% macro default__sigma_safe_cast(expression, type) -%}
    {{ dbt.safe_cast(expression, type) }}
{%- endmacro %}

{% macro duckdb__sigma_safe_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}

{% macro spark__sigma_safe_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}
