-- Every LSOA code with its ward, district, CSP, force area and police.uk force, from the ONS
-- lookups. Published as evidence.dim_geography; read by int_measure__areas for the CSPs a
-- measure is reported for.
with

lsoa_lookup as (

    select * from {{ ref('stg_ons_geography__lsoa_lad_lookup') }}

),

districts as (

    select * from {{ ref('int_geography__lad_csp_pfa') }}

),

csps as (

    select * from {{ ref('int_geography__csp') }}

),

newest_lsoa_rows as (

    -- An LSOA code can be in several lookups (2011 and 2021 LSOAs share unchanged codes):
    -- keep the newest. Retired 2011 codes stay, so older police.uk months still join.
    select *
    from lsoa_lookup
    qualify row_number() over (
        partition by lsoa_code order by lsoa_vintage desc, lad_vintage desc
    ) = 1

),

district_choice as (

    -- The district's CSP and force from the lookup of the same year as the LSOA lookup's
    -- districts, else from the newest lookup that lists the district.
    select
        newest_lsoa_rows.lsoa_code,
        districts.vintage,
        districts.csp_code,
        districts.csp_count,
        districts.pfa_code,
        districts.pfa_name,
        districts.force_id,
        row_number() over (
            partition by newest_lsoa_rows.lsoa_code
            order by (districts.vintage = newest_lsoa_rows.lad_vintage) desc, districts.vintage desc
        ) as preference
    from newest_lsoa_rows
    inner join districts
        on newest_lsoa_rows.lad_code = districts.lad_code

),

lsoas_with_csp as (

    select
        newest_lsoa_rows.lsoa_code,
        newest_lsoa_rows.lsoa_name,
        newest_lsoa_rows.lsoa_vintage,
        newest_lsoa_rows.ward_code,
        newest_lsoa_rows.ward_name,
        newest_lsoa_rows.lad_code,
        newest_lsoa_rows.lad_name,
        newest_lsoa_rows.lad_vintage,
        district_choice.csp_code,
        csps.csp_name,
        coalesce(district_choice.csp_count, 0) as csp_candidate_count,
        district_choice.vintage as csp_lookup_vintage,
        district_choice.pfa_code,
        district_choice.pfa_name,
        district_choice.force_id,
        newest_lsoa_rows.source_file
    from newest_lsoa_rows
    left join district_choice
        on newest_lsoa_rows.lsoa_code = district_choice.lsoa_code
        and district_choice.preference = 1
    left join csps
        on district_choice.csp_code = csps.csp_code

)

select * from lsoas_with_csp
