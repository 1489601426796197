with

source as (

    select * from {{ source('police_uk_api', 'forces') }}

),

renamed as (

    select
        -- ids
        force_id,

        -- the force
        nullif(trim(force_name), '') as force_name,
        {{ html_to_text('description') }} as description_text,
        nullif(trim(url), '') as website_url,
        nullif(trim(telephone), '') as telephone,
        coalesce(json_array_length(engagement_methods), 0) as engagement_method_count,

        -- lineage
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _loaded_at as loaded_at

    from source

)

select * from renamed
