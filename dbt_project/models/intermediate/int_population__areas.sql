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

district_areas as (

    -- each district's rows with the larger areas that hold it. Whole districts only: a CSP
    -- holding part of a split district is left out (its population cannot be known from
    -- district figures), rather than understated.
    select
        'community_safety_partnership' as area_type,
        csps.csp_code as area_code,
        csps.csp_name as area_name,
        csps.pfa_code as area_pfa_code,
        csps.force_id as area_force_id,
        local_authorities.*
    from local_authorities
    inner join csps
        on local_authorities.csp_code = csps.csp_code
    where not csps.has_split_district
    union all
    select
        'police_force_area' as area_type,
        police_force_areas.pfa_code as area_code,
        police_force_areas.pfa_name as area_name,
        police_force_areas.pfa_code as area_pfa_code,
        police_force_areas.force_id as area_force_id,
        local_authorities.*
    from local_authorities
    inner join police_force_areas
        on local_authorities.pfa_code = police_force_areas.pfa_code

),

larger_area_rows as (

    select
        area_type,
        area_code,
        area_name,
        area_pfa_code as pfa_code,
        area_force_id as force_id,
        population_year,
        population_source,
        sex,
        age_band,
        ethnic_group,
        sum(population_count) as population_count,
        count(*) as district_count
    from district_areas
    group by all

),

all_areas as (

    select * from district_rows
    union all
    select * from larger_area_rows

)

select * from all_areas
