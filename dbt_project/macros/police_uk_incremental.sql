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


{#- Months (`YYYY-MM`) of `raw_relation` loaded after the model's watermark. `_loaded_at` grows with
    every load, so DuckDB's zone maps skip the row groups of older loads. -#}
{% macro police_uk_changed_months(raw_relation, model_name=none) -%}
    select distinct _month
    from {{ raw_relation }}
    where _loaded_at > {{ police_uk_watermark(model_name) }}
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


{#- post-hook of int_outcomes__crime_cohort: a re-issued street file can drop a crime. Crimes whose
    cohort month was just reloaded and that no longer appear in it (nor, rebuilt, anywhere else
    earlier) are removed; delete+insert alone only replaces the crimes the new rows contain. -#}
{% macro police_uk_delete_vanished_crimes() %}
    {% if is_incremental() %}
        delete from {{ this }}
        where cohort_month_start in (
                select cast(_month || '-01' as date)
                from ({{ police_uk_changed_months(source('police_uk', 'street')) }})
            )
            and built_at < {{ police_uk_run_started_at() }}
    {% else %}
        select 1
    {% endif %}
{% endmacro %}
