{#- The grain of every consultation estimate (int_consultation__respondent_areas): a group of
    respondents (`group_variable` = `group_value`, 'All respondents' included) in an area (the
    force area or a district) of one survey. The marts that estimate from those rows group by it
    and publish it as their first columns. -#}
{% macro consultation_group_columns() -%}
        survey_id,
        force_id,
        area_type,
        area_code,
        area_name,
        group_variable,
        group_value
{%- endmacro %}


{#- The two warnings every consultation estimate carries, from the group's `respondent_count` (the
    respondents its share is of) and `effective_sample_size` (Kish). The rows stay: a small group
    is shown with its warning, not hidden. -#}
{% macro consultation_sample_flags(respondent_count, effective_sample_size) -%}
        {{ respondent_count }} < {{ var('consultation_min_group_respondents', 30) }} as is_small_group,
        {{ effective_sample_size }} < {{ var('consultation_min_effective_sample_size', 50) }}
            as is_low_effective_sample
{%- endmacro %}
