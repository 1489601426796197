with

source as (

    select * from {{ source('finance', 'funding') }}

),

renamed as (

    select
        -- the plan-year key
        {{ finance_plan_year_columns() }},

        -- measures
        cast(police_grant_gbp as decimal(18, 2)) as police_grant_gbp,
        cast(precept_gbp as decimal(18, 2)) as precept_gbp,
        -- optional in the template: an empty cell means no other general grants
        cast(coalesce(other_grants_gbp, 0) as decimal(18, 2)) as other_grants_gbp,
        cast(band_d_precept_gbp as decimal(18, 2)) as band_d_precept_gbp,
        cast(council_tax_base as double) as council_tax_base,
        nullif(trim(notes), '') as notes,

        -- lineage
        source_row,
        _source_file as source_file
    from source

)

select * from renamed
