with

source as (

    select * from {{ source('finance', 'police_grant') }}

),

renamed as (

    select
        -- ids
        trim(force) as force_as_published,
        _settlement_year as financial_year,

        -- dates
        cast(left(_settlement_year, 4) as integer) as financial_year_start,

        -- measures
        cast(budget_gbp as bigint) as grant_gbp,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at
    from source

),

with_force as (

    -- the force's data.police.uk id, from its name as published (seed force_name_aliases)
    {{ with_force_id('renamed') }}

)

select * from with_force
