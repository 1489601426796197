{#- The rows of a Census table by local authority (`relation`, one of stg_ons_population__census_*)
    from the newest census each district has, so a later census replaces an earlier one district
    by district as it is loaded. Used as the body of a CTE. -#}
{% macro newest_census_rows(relation) %}
    select * from {{ relation }}
    qualify census_year = max(census_year) over (partition by area_code)
{% endmacro %}
