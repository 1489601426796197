with

source as (

    select * from {{ source('ons_geography', 'pfa_names') }}

),

renamed as (

    select
        -- ids
        trim(pfa_code) as pfa_code,

        -- names: the UK file leaves the Channel Islands and Isle of Man placeholders unnamed
        nullif(trim(pfa_name), '') as pfa_name,
        nullif(trim(pfa_name_welsh), '') as pfa_name_welsh,

        -- flags
        regexp_matches(pfa_code, '^(E23|W15)') as is_england_and_wales,

        -- vintage
        cast(_vintage as integer) as vintage,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
