with

lookup as (

    select * from {{ ref('stg_ons_geography__lad_csp_pfa_lookup') }}

),

police_force_areas as (

    select * from {{ ref('police_force_areas') }}

),

districts_per_vintage as (

    -- After a merger ONS keeps the old CSPs, so one district can sit in several: then its
    -- CSP is unknown (NULL) rather than guessed.
    select
        lad_code,
        vintage,
        max(lad_name) as lad_name,
        count(distinct csp_code) as csp_count,
        case when count(distinct csp_code) = 1 then max(csp_code) end as csp_code,
        case when count(distinct csp_code) = 1 then max(csp_name) end as csp_name,
        count(distinct pfa_code) as pfa_count,
        max(pfa_code) as pfa_code,
        max(pfa_name) as pfa_name,
        max(source_file) as source_file
    from lookup
    group by lad_code, vintage

),

with_force as (

    select
        districts_per_vintage.*,
        police_force_areas.force_id,
        districts_per_vintage.vintage = max(districts_per_vintage.vintage)
            over (partition by districts_per_vintage.lad_code) as is_latest_vintage_for_district
    from districts_per_vintage
    left join police_force_areas
        on districts_per_vintage.pfa_code = police_force_areas.pfa_code

)

select * from with_force
