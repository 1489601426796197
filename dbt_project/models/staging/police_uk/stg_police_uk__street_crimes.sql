-- A view: rename, cast and clean. Consumers filter it by month (source_month), and DuckDB
-- pushes that filter into the raw table's scan, so an incremental build reads only new months.
with

source as (

    select * from {{ source('police_uk', 'street') }}

),

renamed as (

    select
        -- ids, dates, reporting force, geography
        {{ police_uk_crime_columns() }},

        -- classification
        crime_type,
        crime_type = 'Anti-social behaviour' as is_anti_social_behaviour,
        nullif(trim(last_outcome_category), '') as last_outcome_category,
        nullif(trim(context), '') as context,

        -- lineage
        {{ police_uk_lineage_columns() }}

    from source

)

select * from renamed
