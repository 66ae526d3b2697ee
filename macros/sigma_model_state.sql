{#-
    What an incremental model built over a sliding window last built for, so that its next run
    recomputes only what changed: one row per model in the table sigma_model_state (target
    schema), written by the model's own post-hook inside its transaction (the model's rows and
    its state commit together, or neither does). Columns: model (the model's name), definition
    (a text that changes whenever the model's rows would change for the same data: the parse
    signature and the window settings), window_first_day and window_last_day (the days the rows
    cover), built_through (the start of the dbt invocation that built it: events recomputed
    later are news to it).

    A model's window is a dict {"definition", "first_day", "last_day"} (dates), e.g.
    sigma_resource_users_window(). No state, another definition, a window sharing no day with the
    recorded one, or a full build: the model is rebuilt whole.
-#}

{% macro sigma_model_state_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier="sigma_model_state")) }}
{%- endmacro %}

{#- The state recorded for `model_name` with this `definition`, as a dict (window_first_day and
    window_last_day: dates; built_through: a timestamp literal), or none: not executing, in a unit test,
    no state table, no row for the model, or a row of another definition. -#}
{% macro sigma_model_state(model_name, definition) -%}
    {%- if not execute or model.resource_type == "unit_test" -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = sigma_model_state_relation() -%}
    {%- if adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select window_first_day, window_last_day, built_through
        from {{ relation }}
        where model = '{{ model_name }}' and definition = '{{ definition | replace("'", "''") }}'
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length != 1 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for value in rows[0][:2] -%}
        {%- do days.append(value.date() if value.hour is defined else value) -%}
    {%- endfor -%}
    {{ return({
        "window_first_day": days[0],
        "window_last_day": days[1],
        "built_through": sigma_timestamp_value(rows[0][2]),
    }) }}
{%- endmacro %}

{#- How this run builds this model over `window`: {"state": the recorded state (sigma_model_state)
    or none, "rebuild_all": true on a full build, without a state, or when the recorded window
    and this one share no day}. -#}
{% macro sigma_window_model_plan(window) -%}
    {#- A unit test builds from its fixtures alone: always whole. -#}
    {%- set incremental = model.resource_type != "unit_test" and is_incremental() -%}
    {%- set state = sigma_model_state(this.identifier, window.definition) if incremental else none -%}
    {%- set rebuild_all = state is none
        or state.window_last_day < window.first_day
        or state.window_first_day > window.last_day -%}
    {{ return({"state": state, "rebuild_all": rebuild_all}) }}
{%- endmacro %}

{#- Pre-hook SQL: empty the table when an incremental run rebuilds it whole (its rows are then
    all written again, and a row nothing writes any more must not stay). -#}
{% macro sigma_clear_when_rebuilding(window) -%}
    {%- if is_incremental() and sigma_window_model_plan(window).rebuild_all -%}
        {{ return(sigma_incremental_hook("delete from " ~ this)) }}
    {%- endif -%}
    {{ return("") }}
{%- endmacro %}

{#- Post-hook SQL: record this build of this model over `window` (see above); nothing on engines
    that rebuild the model whole every run (Spark's tables). -#}
{% macro sigma_record_model_state(window) -%}
    {%- if model.config.materialized != "incremental" -%}
        {{ return("") }}
    {%- endif -%}
    {%- set relation = sigma_model_state_relation() -%}
    {%- set statements -%}
        create schema if not exists {{ relation.without_identifier() }};
        create table if not exists {{ relation }} (
            model {{ dbt.type_string() }},
            definition {{ dbt.type_string() }},
            window_first_day date,
            window_last_day date,
            built_through {{ dbt.type_timestamp() }}
        );
        delete from {{ relation }} where model = '{{ this.identifier }}';
        insert into {{ relation }} values (
            '{{ this.identifier }}',
            '{{ window.definition | replace("'", "''") }}',
            {{ sigma_date_literal(window.first_day) }},
            {{ sigma_date_literal(window.last_day) }},
            {{ sigma_run_started_at() }}
        )
    {%- endset -%}
    {{ return(statements) }}
{%- endmacro %}
