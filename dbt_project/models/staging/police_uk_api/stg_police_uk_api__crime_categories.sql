with

source as (

    select * from {{ source('police_uk_api', 'crime_categories') }}

),

renamed as (

    select
        -- ids
        category_url as crime_category_slug,

        -- dates
        cast(month || '-01' as date) as month_start,

        -- the category
        trim(category_name) as crime_category_name,
        category_url = 'all-crime' as is_all_crime,

        -- lineage
        _source_url as source_url,
        _loaded_at as loaded_at

    from source

)

select * from renamed
