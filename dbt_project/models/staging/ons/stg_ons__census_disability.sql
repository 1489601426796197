with

source as (

    select * from {{ source('ons', 'census_disability') }}

),

renamed as (

    select
        -- ids
        trim(area_code) as area_code,

        -- area
        trim(area_name) as area_name,

        -- dates and groups
        cast(_census_year as integer) as census_year,
        -- 'Disability: Female; measures: Value' and 'Disability: Female' both become 'Female'
        trim(regexp_replace(
            regexp_replace(disability_label, '^\s*disability:\s*', '', 'i'),
            ';\s*measures:\s*value\s*$', '', 'i'
        )) as disability_label,
        disability_label as published_label,

        -- measures
        population as population_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
