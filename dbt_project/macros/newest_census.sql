{#- The rows of a Census table by local authority (`relation`, one of stg_ons_population__census_*)
    from the newest census each district has, so a later census replaces an earlier one district
    by district as it is loaded. Used as the body of a CTE. -#}
{% macro newest_census_rows(relation) %}
    select * from {{ relation }}
    qualify census_year = max(census_year) over (partition by area_code)
{% endmacro %}


{#- One weighting margin from a Census table by local authority (`relation`, as for
    `newest_census_rows`): all usual residents of each district in each category of `variable`.
    `category` is a SQL expression over the table's columns; rows where it is null are in no
    category of the margin. Used as the body of a CTE. -#}
{% macro census_margin(relation, variable, category, table_name) %}
    select
        area_code as lad_code,
        '{{ variable }}' as variable,
        {{ category }} as category,
        sum(population_count) as population_count,
        'Census ' || census_year || ' {{ table_name }}, all usual residents' as margin_source
    from ({{ newest_census_rows(relation) }}) as newest_census
    where {{ category }} is not null
    group by all
{% endmacro %}
