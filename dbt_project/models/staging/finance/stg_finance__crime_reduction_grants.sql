with

source as (

    select * from {{ source('finance', 'crime_reduction_grants') }}

),

renamed as (

    select
        -- ids
        md5(concat_ws('|', _force_id, _plan_year, source_row)) as grant_id,
        {{ finance_plan_year_columns() }},

        -- the grant
        trim(recipient) as recipient,
        recipient_type,
        nullif(trim(csp_name), '') as csp_name,
        trim(purpose) as purpose,
        trim(conditions) as conditions,
        nullif(trim(outcome), '') as outcome,

        -- dates
        awarded_on,

        -- measures
        cast(amount_gbp as decimal(18, 2)) as amount_gbp,

        -- lineage
        source_row,
        _source_file as source_file
    from source

)

select * from renamed
