with

source as (

    select * from {{ source('police_uk_api', 'last_updated') }}

),

renamed as (

    select
        -- dates
        try_cast(last_updated_date as date) as crime_data_updated_on,

        -- lineage
        _source_url as source_url,
        _loaded_at as loaded_at

    from source

)

select * from renamed
