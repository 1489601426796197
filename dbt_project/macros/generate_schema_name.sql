{#-
    Use a model's custom schema as-is (staging, intermediate, evidence, reference)
    instead of dbt's default `<target_schema>_<custom_schema>`: analysts query
    `evidence.fct_outcomes`, whatever the target.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
