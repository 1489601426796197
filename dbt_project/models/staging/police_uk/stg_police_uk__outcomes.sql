-- A view: rename, cast and clean. Consumers filter it by month (source_month), and DuckDB
-- pushes that filter into the raw table's scan, so an incremental build reads only new months.
with

source as (

    select * from {{ source('police_uk', 'outcomes') }}

),

renamed as (

    select
        -- ids, dates, reporting force, geography (of the crime)
        {{ police_uk_crime_columns(month_start_as='outcome_month_start') }},

        -- classification
        nullif(trim(outcome_type), '') as outcome_category,

        -- lineage
        {{ police_uk_lineage_columns() }}

    from source

)

select * from renamed
