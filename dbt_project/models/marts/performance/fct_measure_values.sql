-- The rows of int_measure__values, published under their contract (the yml beside this file).
with

values as (

    select * from {{ ref('int_measure__values') }}

)

select * from values
