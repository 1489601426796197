with

source as (

    select * from {{ source('finance', 'reserves') }}

),

renamed as (

    select
        -- the plan-year key
        {{ finance_plan_year_columns() }},

        -- the reserve
        trim(reserve_name) as reserve_name,
        reserve_type,

        -- measures (an empty movement is none)
        cast(opening_balance_gbp as decimal(18, 2)) as opening_balance_gbp,
        cast(coalesce(contribution_gbp, 0) as decimal(18, 2)) as contribution_gbp,
        cast(coalesce(use_gbp, 0) as decimal(18, 2)) as use_gbp,
        cast(closing_balance_gbp as decimal(18, 2)) as closing_balance_gbp,
        reserve_type = 'General' as is_general_reserve,
        nullif(trim(notes), '') as notes,

        -- lineage
        source_row,
        _source_file as source_file
    from source

)

select * from renamed
