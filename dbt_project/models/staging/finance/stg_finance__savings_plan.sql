with

source as (

    select * from {{ source('finance', 'savings_plan') }}

),

renamed as (

    select
        -- the plan-year key
        {{ finance_plan_year_columns() }},

        -- measures
        cast(savings_required_gbp as decimal(18, 2)) as savings_required_gbp,
        cast(savings_identified_gbp as decimal(18, 2)) as savings_identified_gbp,
        cast(savings_delivered_gbp as decimal(18, 2)) as savings_delivered_gbp,
        nullif(trim(notes), '') as notes,

        -- lineage
        source_row,
        _source_file as source_file
    from source

)

select * from renamed
