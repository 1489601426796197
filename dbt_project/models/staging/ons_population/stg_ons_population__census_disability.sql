with

source as (

    select * from {{ source('ons_population', 'census_disability') }}

),

renamed as (

    select
        -- ids
        trim(area_code) as area_code,

        -- area
        trim(area_name) as area_name,

        -- dates and groups
        cast(_census_year as integer) as census_year,
        -- 'Disability: Disabled under the Equality Act: Day-to-day activities limited a lot' becomes
        -- 'Disabled under the Equality Act: Day-to-day activities limited a lot' (a '; measures: Value' suffix goes too)
        {{ nomis_category_label('disability_label', 'disability') }} as disability_label,
        disability_label as published_label,

        -- measures
        population as population_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
