with

source as (

    select * from {{ source('finance', 'revenue_budget') }}

),

renamed as (

    select
        -- the plan-year key
        {{ finance_plan_year_columns() }},

        -- the line
        budget_line,

        -- measures
        cast(amount_gbp as decimal(18, 2)) as amount_gbp,
        nullif(trim(notes), '') as notes,

        -- lineage
        source_row,
        _source_file as source_file
    from source

)

select * from renamed
