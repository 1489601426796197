-- The areas measures are reported for, with their names: forces (the police_forces seed, as in
-- dim_force) and community safety partnerships (the ONS lookups, int_geography__lsoa, as in
-- dim_geography).
with

forces as (

    select * from {{ ref('police_forces') }}

),

geography as (

    select * from {{ ref('int_geography__lsoa') }}

),

force_areas as (

    select
        'force' as area_type,
        cast(force_id as varchar) as area_code,
        cast(force_name as varchar) as area_name,
        cast(force_id as varchar) as force_id
    from forces

),

csp_areas as (

    -- A CSP lies in one force area; its name as ONS writes it (the newest LSOA lookup's).
    select
        'csp' as area_type,
        cast(csp_code as varchar) as area_code,
        cast(max(csp_name) as varchar) as area_name,
        cast(max(force_id) as varchar) as force_id
    from geography
    where csp_code is not null
    group by csp_code

),

all_areas as (

    select * from force_areas
    union all
    select * from csp_areas

)

select * from all_areas
