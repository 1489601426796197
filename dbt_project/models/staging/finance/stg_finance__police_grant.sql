with

source as (

    select * from {{ source('finance', 'police_grant') }}

),

force_name_aliases as (

    select * from {{ ref('force_name_aliases') }}

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

    select
        force_name_aliases.force_id,
        renamed.*
    from renamed
    left join force_name_aliases
        on lower(renamed.force_as_published) = lower(force_name_aliases.alias)

)

select * from with_force
