{#- A theme of a CSP's strategic assessment as the CSP priorities marts publish it (their first
    columns): the partnership, its force, the assessment's year and the theme (seeds/csp_themes). -#}
{% macro csp_assessment_theme_key_columns() -%}
        cast(csp_key as varchar) as csp_key,
        cast(csp_name as varchar) as csp_name,
        cast(force_id as varchar) as force_id,
        cast(assessment_year as integer) as assessment_year,
        cast(theme as varchar) as theme,
        cast(theme_label as varchar) as theme_label
{%- endmacro %}
