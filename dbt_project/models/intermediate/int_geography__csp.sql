with

districts as (

    select * from {{ ref('int_geography__lad_csp_pfa') }}

),

lookup as (

    select * from {{ ref('stg_ons_geography__lad_csp_pfa_lookup') }}

),

csp_names as (

    select * from {{ ref('stg_ons_geography__csp_names') }}

),

csp_vintages as (

    -- each CSP as the newest lookup vintage that lists it
    select
        csp_code,
        max(vintage) as vintage
    from lookup
    group by csp_code

),

csp_members as (

    select
        lookup.csp_code,
        lookup.vintage,
        max(lookup.csp_name) as csp_name,
        max(lookup.csp_name_key) as csp_name_key,
        max(lookup.pfa_code) as pfa_code,
        count(distinct lookup.lad_code) as district_count,
        -- a CSP holding part of a split district has no whole-district population
        bool_or(districts.csp_code is null) as has_split_district
    from lookup
    inner join csp_vintages
        on {{ keys_match('lookup', 'csp_vintages', ['csp_code', 'vintage']) }}
    inner join districts
        on {{ keys_match('lookup', 'districts', ['lad_code', 'vintage']) }}
    group by lookup.csp_code, lookup.vintage

),

welsh_names as (

    select
        csp_code,
        arg_max(csp_name_welsh, vintage) as csp_name_welsh
    from csp_names
    group by csp_code

),

with_force as (

    select
        csp_members.csp_code,
        csp_members.csp_name,
        welsh_names.csp_name_welsh,
        csp_members.csp_name_key,
        csp_members.vintage,
        csp_members.pfa_code,
        police_force_areas.force_id,
        csp_members.district_count,
        csp_members.has_split_district
    from csp_members
    left join welsh_names
        on csp_members.csp_code = welsh_names.csp_code
    left join {{ ref('police_force_areas') }} as police_force_areas
        on csp_members.pfa_code = police_force_areas.pfa_code

)

select * from with_force
