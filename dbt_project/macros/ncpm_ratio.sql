{#- An NCPM figure from its numerator and denominator: per cent for a share (unit 'percent'), the
    plain ratio otherwise (a mean, e.g. seconds to answer). The force's own figure and the pooled
    most similar group and England and Wales figures use it alike. -#}
{% macro ncpm_ratio(unit, numerator, denominator) -%}
    (case when {{ unit }} = 'percent' then 100.0 else 1.0 end * {{ numerator }} / nullif({{ denominator }}, 0))
{%- endmacro %}
