with

source as (

    select * from {{ source('police_uk_api', 'neighbourhoods') }}

),

renamed as (

    select
        -- ids: a neighbourhood id is unique within its force only
        force_id || '/' || neighbourhood_id as neighbourhood_key,
        force_id,
        neighbourhood_id,

        -- the neighbourhood
        trim(neighbourhood_name) as neighbourhood_name,
        {{ html_to_text('description') }} as description_text,
        -- The API writes the population as text and "0" when it does not know it.
        nullif(try_cast(population as bigint), 0) as population_count,

        -- geography
        try_cast(centre_latitude as double) as centre_latitude,
        try_cast(centre_longitude as double) as centre_longitude,
        coalesce(json_array_length(locations), 0) as location_count,

        -- contact
        nullif(trim(contact_details ->> 'email'), '') as team_email,
        nullif(trim(contact_details ->> 'telephone'), '') as team_telephone,
        nullif(trim(url_force), '') as force_page_url,

        -- lineage
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _loaded_at as loaded_at

    from source

)

select * from renamed
