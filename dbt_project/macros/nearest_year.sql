{#-
    Which population estimate a period uses: the year nearest the period's year, the later one when
    two are as near (mid-2023 and mid-2025 for 2024: mid-2025). `nearest_year_rank(year, target_year,
    partition_by)` is 1 for that estimate within each `partition_by` (the period and area it is chosen
    for), so a model keeps `where preference = 1` (or joins on it):
    `{{ nearest_year_rank('population.population_year', 'periods.period_year', ['periods.area_code', 'periods.period_year']) }} as preference`.
-#}
{% macro nearest_year_rank(year, target_year, partition_by) -%}
    row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by abs({{ year }} - {{ target_year }}), {{ year }} desc
    )
{%- endmacro %}
