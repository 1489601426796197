-- The rows of int_measure__disproportionality, published under their contract (the yml beside this file).
with

disproportionality as (

    select * from {{ ref('int_measure__disproportionality') }}

)

select * from disproportionality
