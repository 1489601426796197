-- A view: rename, cast and clean. Consumers filter it by month (source_month), and DuckDB
-- pushes that filter into the raw table's scan, so an incremental build reads only new months.
with

source as (

    select * from {{ source('police_uk', 'street') }}

),

renamed as (

    select
        -- ids
        nullif(trim(crime_id), '') as crime_id,
        _force_id as force_id,

        -- dates
        cast(coalesce(month, _month) || '-01' as date) as month_start,

        -- reporting force
        reported_by,
        falls_within,

        -- geography
        longitude,
        latitude,
        longitude is not null and latitude is not null as has_location,
        case when location <> 'No Location' then location end as location_description,
        nullif(trim(lsoa_code), '') as lsoa_code,
        nullif(trim(lsoa_name), '') as lsoa_name,

        -- classification
        crime_type,
        crime_type = 'Anti-social behaviour' as is_anti_social_behaviour,
        nullif(trim(last_outcome_category), '') as last_outcome_category,
        nullif(trim(context), '') as context,

        -- lineage
        _month as source_month,
        _source_file as source_file,
        _archive_sha256 as archive_sha256,
        _loaded_at as loaded_at

    from source

)

select * from renamed
