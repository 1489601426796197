with

source as (

    select * from {{ source('ons_geography', 'lad_csp_pfa_lookup') }}

),

renamed as (

    select
        -- ids
        trim(lad_code) as lad_code,
        trim(csp_code) as csp_code,
        trim(pfa_code) as pfa_code,

        -- names
        trim(lad_name) as lad_name,
        trim(csp_name) as csp_name,
        nullif(trim(csp_name_welsh), '') as csp_name_welsh,
        trim(pfa_name) as pfa_name,
        -- for matching the Home Office's spellings (macros/name_key.sql)
        {{ name_key('csp_name') }} as csp_name_key,

        -- vintage
        cast(_vintage as integer) as vintage,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
