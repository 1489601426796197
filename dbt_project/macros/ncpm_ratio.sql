{#- An NCPM figure from its numerator and denominator: per cent for a share (unit 'percent'), the
    plain ratio otherwise (a mean, e.g. seconds to answer). The force's own figure and the pooled
    most similar group and England and Wales figures use it alike. -#}
{% macro ncpm_ratio(unit, numerator, denominator) -%}
    (case when {{ unit }} = 'percent' then 100.0 else 1.0 end * {{ numerator }} / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- How far an NCPM figure has moved from an earlier one, in per cent to one decimal (a share's
    change in percentage points is the plain difference). NULL when the earlier figure is 0 or missing. -#}
{% macro ncpm_percent_change(value, earlier) -%}
    round(100 * ({{ value }} / nullif({{ earlier }}, 0) - 1), 1)
{%- endmacro %}
