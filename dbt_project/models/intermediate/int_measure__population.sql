-- Residents the measures divide by, from evidence.fct_population when it can be read (else empty,
-- and rates and disproportionality are data gaps): the total population of each force area and
-- CSP by mid-year, and the Census population of each force area by broad ethnic group.
{%- set population = plan_relation('fct_population') %}

with

{% if population.relation is not none -%}
population as (

    select * from {{ population.relation }}

),
{%- else -%}
population as (

    -- {{ population.reason }}
    {{ empty_relation({'area_type': 'varchar', 'area_code': 'varchar', 'force_id': 'varchar',
                       'population_year': 'integer', 'population_source': 'varchar', 'sex': 'varchar',
                       'age_band': 'varchar', 'ethnic_group': 'varchar', 'population_count': 'bigint'}) }}

),
{%- endif %}

total_population as (

    select
        'total' as population_kind,
        case area_type when 'police_force_area' then 'force' else 'csp' end as area_type,
        case area_type when 'police_force_area' then force_id else area_code end as area_code,
        'all' as ethnic_group,
        cast(population_year as integer) as population_year,
        cast(sum(population_count) as bigint) as population_count
    from population
    where area_type in ('police_force_area', 'community_safety_partnership')
        and population_source = 'mid_year_estimate'
        and sex = 'persons'
        and age_band = 'all ages'
        and ethnic_group = 'all'
    group by all

),

ethnic_group_population as (

    select
        'ethnic_group' as population_kind,
        'force' as area_type,
        force_id as area_code,
        ethnic_group,
        cast(population_year as integer) as population_year,
        cast(sum(population_count) as bigint) as population_count
    from population
    where area_type = 'police_force_area'
        and population_source = 'census'
        and sex = 'persons'
        and age_band = 'all ages'
        and ethnic_group <> 'all'
    group by all

),

all_population as (

    select * from total_population
    union all
    select * from ethnic_group_population

)

select * from all_population
where area_code is not null
