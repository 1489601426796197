{#- Each row of `relation` with the data.police.uk `force_id` of its `force_as_published` (a force
    name as a publisher spells it), looked up case-insensitively in seed `force_name_aliases`; NULL
    for a spelling the seed does not list (the models test for it). The body of a CTE. -#}
{% macro with_force_id(relation) %}
    select
        {{ relation }}.*,
        force_name_aliases.force_id
    from {{ relation }}
    left join {{ ref('force_name_aliases') }} as force_name_aliases
        on lower({{ relation }}.force_as_published) = lower(force_name_aliases.alias)
{% endmacro %}
