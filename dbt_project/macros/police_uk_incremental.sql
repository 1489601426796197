{#-
    Incremental builds of the police.uk models, keyed on the month.

    The loader replaces whole force-month partitions and stamps every row with `_loaded_at`.
    Each incremental model keeps its own watermark in `meta.police_uk_build_log` (the newest
    `_loaded_at` it has consumed), written by `police_uk_record_builds` at the end of a run for
    every model that built successfully. On the next run the model rebuilds exactly the months
    whose rows were loaded after its watermark, so the cost of a new month does not grow with
    history, a failed or partial run (`--select`) simply leaves its models' watermarks behind
    (their months are rebuilt next time), and `--full-refresh` rebuilds everything.
-#}

{% macro police_uk_build_log() -%}
    meta.police_uk_build_log
{%- endmacro %}


{% macro police_uk_create_build_log() %}
    create schema if not exists meta;
    create table if not exists {{ police_uk_build_log() }} (
        model varchar not null,             -- the incremental model
        run_started_at timestamp not null,  -- dbt's run_started_at of the build (UTC)
        raw_loaded_through timestamp,       -- newest raw _loaded_at the model had consumed
        is_full_refresh boolean not null,
        invocation_id varchar not null
    );
{% endmacro %}


{#- The model's watermark: the newest `_loaded_at` it has consumed (-infinity before its first build). -#}
{% macro police_uk_watermark(model_name=none) -%}
    (select coalesce(max(raw_loaded_through), '-infinity'::timestamp)
     from {{ police_uk_build_log() }}
     where model = '{{ model_name or this.identifier }}')
{%- endmacro %}


{#- When the model last built successfully (run_started_at), to find rows an upstream model rebuilt since. -#}
{% macro police_uk_last_built_at(model_name=none) -%}
    (select coalesce(max(run_started_at), '-infinity'::timestamp)
     from {{ police_uk_build_log() }}
     where model = '{{ model_name or this.identifier }}')
{%- endmacro %}


{#- Months (`YYYY-MM`) of a police.uk staging view (`stg_police_uk__*`, passed as `ref()`) whose rows
    were loaded after the model's watermark, as a list of SQL literals (`'2025-09', '2025-10'`;
    `null` when there is none). Looked up when the model runs and written into its SQL as
    constants, so DuckDB prunes row groups by month (zone maps) instead of evaluating a subquery
    against every row of history; the view's `source_month` and `loaded_at` are the raw table's
    `_month` and `_loaded_at`, and DuckDB pushes the filter through the view into the raw scan. -#}
{% macro police_uk_changed_months(staging_relation, model_name=none) -%}
    {{ police_uk_month_literals(police_uk_changed_month_list(staging_relation, model_name)) }}
{%- endmacro %}


{% macro police_uk_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}


{#- on-run-end: advance the watermark of every police.uk incremental model that built successfully. -#}
{% macro police_uk_record_builds(results) %}
    {% if execute %}
        {% set built = [] %}
        {% for result in results %}
            {% if result.node.resource_type == 'model' and 'police_uk_incremental' in result.node.tags
                  and result.status == 'success' %}
                {% do built.append(result.node.alias or result.node.name) %}
            {% endif %}
        {% endfor %}
        {% if built %}
            {% set loaded_through %}
                select max(loaded_at) from (
                    select max(_loaded_at) as loaded_at from {{ source('police_uk', 'street') }}
                    union all
                    select max(_loaded_at) from {{ source('police_uk', 'outcomes') }}
                    union all
                    select max(_loaded_at) from {{ source('police_uk', 'stop_search') }}
                )
            {% endset %}
            {% set through = run_query(loaded_through).columns[0].values()[0] %}
            {% call statement('record_police_uk_builds') %}
                {{ police_uk_create_build_log() }}
                insert into {{ police_uk_build_log() }}
                select model, {{ police_uk_run_started_at() }},
                       {{ "null" if through is none else "cast('" ~ through ~ "' as timestamp)" }},
                       {{ 'true' if flags.FULL_REFRESH else 'false' }}, '{{ invocation_id }}'
                from (values {% for name in built %}('{{ name }}'){{ ", " if not loop.last }}{% endfor %}) as m(model);
                commit;
            {% endcall %}
        {% endif %}
    {% endif %}
{% endmacro %}


{#- A sortable 64-bit rank: `months` (a whole number of months 0-4095, lower first) in the top 12 bits,
    `precedence` (1-7, lower first) in the next 3, and a 48-bit hash of `tiebreak` columns below
    (a fixed, arbitrary order among copies that differ only there). Used with arg_min to pick one
    row per key in a hash aggregate instead of a window over every row. -#}
{% macro police_uk_rank_key(months, precedence, tiebreak) -%}
    (
        (cast(({{ months }}) as bigint) << 51)
        | (cast(({{ precedence }}) as bigint) << 48)
        | cast((hash({{ tiebreak | join(', ') }}) & cast(281474976710655 as ubigint)) as bigint)
    )
{%- endmacro %}


{#- The config every police.uk incremental model shares: delete+insert on `unique_key` (whole months,
    or `crime_key` buckets), failing on a schema change, tagged so on-run-end advances its watermark,
    and the scope its data tests look at (`test_scope`, with the staging view `police_uk_staging` for
    `months_loaded`; macros/police_uk_test_scope.sql). -#}
{% macro police_uk_incremental_config(unique_key, test_scope, police_uk_staging=none, post_hook=none) %}
    {%- set meta = {'police_uk_test_scope': test_scope} -%}
    {%- if police_uk_staging is not none -%}
        {%- do meta.update({'police_uk_staging': police_uk_staging}) -%}
    {%- endif -%}
    {%- set options = {
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
        'tags': ['police_uk_incremental'],
        'meta': meta,
    } -%}
    {%- if post_hook is not none -%}
        {%- do options.update({'post_hook': post_hook}) -%}
    {%- endif -%}
    {{ config(**options) }}
{% endmacro %}


{#- The config of a monthly count of a police.uk staging view (`fct_crime_monthly`,
    `fct_stop_search_monthly`): whole months replaced, its tests on the months just loaded. -#}
{% macro police_uk_monthly_counts_config(staging_model) %}
    {{ police_uk_incremental_config(unique_key='month_start', test_scope='months_loaded', police_uk_staging=staging_model) }}
{% endmacro %}


{#- The rows of a police.uk staging view (`stg_police_uk__*`, by name) a monthly model counts: every
    row on a full build, the months loaded since the model's watermark on an incremental one. The
    body of a CTE. -#}
{% macro police_uk_months_to_count(staging_model) -%}
    select * from {{ ref(staging_model) }}
    {%- if is_incremental() %}
    where source_month in ({{ police_uk_changed_months(ref(staging_model)) }})
    {%- endif %}
{%- endmacro %}
