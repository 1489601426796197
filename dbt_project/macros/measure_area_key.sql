{#- A plan measure's area as every int_measure__* statistic states it (the first columns of the
    model): the measure, the area it is computed for (`area_type`, `area_code`) and the force
    whose area that is. -#}
{% macro measure_area_key_columns() -%}
        cast(measure_id as varchar) as measure_id,
        cast(area_type as varchar) as area_type,
        cast(area_code as varchar) as area_code,
        cast(force_id as varchar) as force_id
{%- endmacro %}
