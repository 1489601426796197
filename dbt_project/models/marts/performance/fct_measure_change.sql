-- The rows of int_measure__change, published under their contract (the yml beside this file).
with

change as (

    select * from {{ ref('int_measure__change') }}

)

select * from change
