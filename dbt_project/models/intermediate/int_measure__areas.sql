-- The areas measures are reported for, with their names: forces (dim_force) and community safety
-- partnerships (dim_geography, when it can be read).
{%- set geography = plan_relation('dim_geography') %}

with

forces as (

    select * from {{ ref('dim_force') }}

),

{% if geography.relation is not none -%}
geography as (

    select * from {{ geography.relation }}

),
{%- else -%}
geography as (

    -- {{ geography.reason }}
    select cast(null as varchar) as csp_code, cast(null as varchar) as csp_name, cast(null as varchar) as force_id
    where false

),
{%- endif %}

force_areas as (

    select
        'force' as area_type,
        force_id as area_code,
        force_name as area_name,
        force_id
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
