{#-
    Data tests of the police.uk incremental models look only at the rows the build just wrote.

    Rows an incremental build did not rewrite were tested when they were written and have not
    changed since, so testing them again only makes a new month's build grow with history. A
    model opts in with `meta: {police_uk_test_scope: ...}` in its config:

      * `built_this_run`: rows whose `built_at` is this run's start (per-crime tables);
      * `months_loaded`: months of the staging view `police_uk_staging` (`stg_police_uk__*`) loaded
        after the model's watermark (which on-run-end advances only after the tests, so these are
        the months the model just rebuilt), in `month_start`;
      * `cohort_months_rebuilt`: the cohort months holding a crime int_outcomes__crime_cohort
        rewrote since the model last built, plus its street months loaded since, in `month_start`.

    Everything is tested, as before, on `--full-refresh`, outside `dbt build` (a plain
    `dbt test`), and when the tested model is not part of the selection being built.
    DuckDB prunes row groups on the month constants, so a scoped test reads one month.
-#}

{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = police_uk_test_scope_predicate() -%}
    {%- set predicates = [] -%}
    {%- if where -%}{%- do predicates.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if scope -%}{%- do predicates.append('(' ~ scope ~ ')') -%}{%- endif -%}
    {%- if predicates -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ predicates | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The rows of the tested model an incremental `dbt build` just wrote, as a predicate; '' for all rows. -#}
{% macro police_uk_test_scope_predicate() %}
    {% if not execute or flags.FULL_REFRESH or flags.WHICH != 'build' %}
        {{ return('') }}
    {% endif %}
    {% set attached = model.get('attached_node') if model is mapping else none %}
    {% if not attached or attached not in graph.nodes or attached not in selected_resources %}
        {{ return('') }}
    {% endif %}
    {% set tested = graph.nodes[attached] %}
    {% set scope = (tested.config.meta or {}).get('police_uk_test_scope') %}
    {% set model_name = tested.alias or tested.name %}
    {% if scope == 'built_this_run' %}
        {{ return('built_at >= ' ~ police_uk_run_started_at()) }}
    {% elif scope == 'months_loaded' %}
        {% set staging_relation = police_uk_model_relation(tested.config.meta['police_uk_staging']) %}
        {% set months = police_uk_changed_month_list(staging_relation, model_name) %}
        {{ return(police_uk_month_start_predicate(months)) }}
    {% elif scope == 'cohort_months_rebuilt' %}
        {% set cohort = graph.nodes['model.' ~ project_name ~ '.int_outcomes__crime_cohort'] %}
        {% set cohort_relation = adapter.get_relation(cohort.database, cohort.schema, cohort.alias or cohort.name) %}
        {% set months = police_uk_changed_month_list(police_uk_model_relation('stg_police_uk__street_crimes'), model_name) %}
        {% if cohort_relation is not none %}
            {% set rebuilt = run_query(
                "select distinct strftime(cohort_month_start, '%Y-%m') from " ~ cohort_relation
                ~ " where built_at > " ~ police_uk_last_built_at(model_name)
            ).columns[0].values() | list %}
            {% set months = (months + rebuilt) | unique | sort | list %}
        {% endif %}
        {{ return(police_uk_month_start_predicate(months)) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}


{#- The relation of a model of this project, by name, from the graph (a test's context can only
    `ref()` the model it tests). -#}
{% macro police_uk_model_relation(model_name) %}
    {% set node = graph.nodes['model.' ~ project_name ~ '.' ~ model_name] %}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias or node.name)) }}
{% endmacro %}


{% macro police_uk_month_start_predicate(months) -%}
    {%- if months -%}
        month_start in ({% for month in months %}date '{{ month }}-01'{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
