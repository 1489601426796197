with

source as (

    select * from {{ source('ons_population', 'census_sex') }}

),

renamed as (

    select
        -- ids
        trim(area_code) as area_code,

        -- area
        trim(area_name) as area_name,

        -- dates and groups
        cast(_census_year as integer) as census_year,
        -- 'Sex: Female; measures: Value' and 'Sex: Female' both become 'Female'
        {{ nomis_category_label('sex_label', 'sex') }} as sex_label,
        sex_label as published_label,

        -- measures
        population as population_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
