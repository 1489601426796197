with

source as (

    select * from {{ source('ons_geography', 'csp_names') }}

),

renamed as (

    select
        -- ids
        trim(csp_code) as csp_code,

        -- names (double-encoded Welsh, e.g. 'Ynys MÃ´n', was repaired by the loader)
        trim(csp_name) as csp_name,
        nullif(trim(csp_name_welsh), '') as csp_name_welsh,

        -- vintage
        cast(_vintage as integer) as vintage,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
