with

local_authorities as (

    select * from {{ ref('int_population__local_authority') }}

),

csps as (

    select * from {{ ref('int_geography__csp') }}

),

police_force_areas as (

    select * from {{ ref('police_force_areas') }}

),

district_rows as (

    select
        'local_authority' as area_type,
        lad_code as area_code,
        lad_name as area_name,
        pfa_code,
        force_id,
        population_year,
        population_source,
        sex,
        age_band,
        ethnic_group,
        population_count,
        1 as district_count
    from local_authorities

),

csp_rows as (

    -- Whole districts only: a CSP holding part of a split district is left out (its
    -- population cannot be known from district figures), rather than understated.
    select
        'community_safety_partnership' as area_type,
        csps.csp_code as area_code,
        csps.csp_name as area_name,
        csps.pfa_code,
        csps.force_id,
        local_authorities.population_year,
        local_authorities.population_source,
        local_authorities.sex,
        local_authorities.age_band,
        local_authorities.ethnic_group,
        sum(local_authorities.population_count) as population_count,
        count(*) as district_count
    from local_authorities
    inner join csps
        on local_authorities.csp_code = csps.csp_code
    where not csps.has_split_district
    group by all

),

force_rows as (

    select
        'police_force_area' as area_type,
        police_force_areas.pfa_code as area_code,
        police_force_areas.pfa_name as area_name,
        police_force_areas.pfa_code,
        police_force_areas.force_id,
        local_authorities.population_year,
        local_authorities.population_source,
        local_authorities.sex,
        local_authorities.age_band,
        local_authorities.ethnic_group,
        sum(local_authorities.population_count) as population_count,
        count(*) as district_count
    from local_authorities
    inner join police_force_areas
        on local_authorities.pfa_code = police_force_areas.pfa_code
    group by all

),

all_areas as (

    select * from district_rows
    union all
    select * from csp_rows
    union all
    select * from force_rows

)

select * from all_areas
