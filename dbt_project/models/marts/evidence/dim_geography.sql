-- The rows of int_geography__lsoa, published under their contract (the yml beside this file).
with

lsoas as (

    select * from {{ ref('int_geography__lsoa') }}

),

final as (

    select
        {{ contract_columns() }}
    from lsoas

)

select * from final
