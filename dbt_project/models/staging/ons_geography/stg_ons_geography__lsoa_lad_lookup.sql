with

source as (

    select * from {{ source('ons_geography', 'lsoa_lad_lookup') }}

),

renamed as (

    select
        -- ids
        trim(lsoa_code) as lsoa_code,
        nullif(trim(ward_code), '') as ward_code,
        trim(lad_code) as lad_code,

        -- names
        trim(lsoa_name) as lsoa_name,
        nullif(trim(lsoa_name_welsh), '') as lsoa_name_welsh,
        nullif(trim(ward_name), '') as ward_name,
        trim(lad_name) as lad_name,
        nullif(trim(lad_name_welsh), '') as lad_name_welsh,

        -- vintages
        cast(_lsoa_vintage as integer) as lsoa_vintage,
        cast(_lad_vintage as integer) as lad_vintage,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
