with

source as (

    select * from {{ source('ons_population', 'census_ethnic_group') }}

),

renamed as (

    select
        -- ids
        trim(area_code) as area_code,

        -- area
        trim(area_name) as area_name,

        -- dates and groups
        cast(_census_year as integer) as census_year,
        -- 'Ethnic Group: White: Irish; measures: Value' (2011) and 'Ethnic group: White: Irish' (2021)
        -- both become 'White: Irish', the label seed census_ethnic_groups maps
        {{ nomis_category_label('ethnic_group_label', 'ethnic\s+group') }} as ethnic_group_label,
        ethnic_group_label as published_label,

        -- measures
        population as population_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
