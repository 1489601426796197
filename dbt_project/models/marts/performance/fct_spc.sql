-- The rows of int_measure__spc, published under their contract (the yml beside this file).
with

spc as (

    select * from {{ ref('int_measure__spc') }}

)

select * from spc
