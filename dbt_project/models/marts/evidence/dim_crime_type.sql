with

crime_types as (

    select * from {{ ref('crime_types') }}

),

final as (

    select
        {{ contract_columns() }}
    from crime_types

)

select * from final
