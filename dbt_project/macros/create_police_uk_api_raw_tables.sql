{#-
    Run on-run-start (dbt_project.yml): create the data.police.uk API raw tables, empty, when a
    warehouse has never loaded the API (a fresh demo, a test fixture), so the staging views
    and their unit tests can be built. Columns and types come from the source definitions in
    models/staging/police_uk_api/_police_uk_api__sources.yml, which must match the loader's
    DDL in ingest/sources/police_uk_api.py (tests/unit/test_police_uk_api.py checks they do).
    Existing tables are left as they are.
-#}
{% macro create_police_uk_api_raw_tables() -%}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == 'police_uk_api' -%}
            {%- if loop.first -%}
                {%- do statements.append('create schema if not exists ' ~ node.schema) -%}
            {%- endif -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
            {%- endfor -%}
            {%- do statements.append('create table if not exists ' ~ node.schema ~ '.' ~ node.identifier
                                     ~ ' (' ~ columns | join(', ') ~ ')') -%}
        {%- endfor -%}
    {%- endif -%}
    {{ statements | join(';\n') if statements else 'select 1' }}
{%- endmacro %}
