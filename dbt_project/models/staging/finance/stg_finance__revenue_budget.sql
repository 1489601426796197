with

source as (

    select * from {{ source('finance', 'revenue_budget') }}

),

renamed as (

    select
        -- ids
        _force_id as force_id,
        _plan_year as plan_first_year,
        financial_year,
        budget_line,

        -- dates
        cast(left(financial_year, 4) as integer) as financial_year_start,

        -- measures
        cast(amount_gbp as decimal(18, 2)) as amount_gbp,
        nullif(trim(notes), '') as notes,

        -- lineage
        source_row,
        _source_file as source_file
    from source

)

select * from renamed
