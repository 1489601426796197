with

source as (

    select * from {{ source('ons_population', 'mid_year_population') }}

),

renamed as (

    select
        -- ids
        trim(area_code) as area_code,

        -- area
        trim(area_name) as area_name,
        trim(geography_level) as geography_level,
        -- MYE2 mixes levels: only districts and unitaries are summed, never their county or region
        trim(geography_level) in (
            'Unitary Authority', 'Non-metropolitan District', 'Metropolitan District', 'London Borough'
        ) as is_local_authority_district,

        -- dates and groups
        cast(_mid_year as integer) as mid_year,
        _sex as sex,
        age as age_label,
        age = 'All ages' as is_all_ages,
        -- the top column is an open band ('90+'): its age is where the band starts
        try_cast(replace(age, '+', '') as integer) as age_years,
        age like '%+' as is_open_age_band,

        -- measures
        population as population_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
