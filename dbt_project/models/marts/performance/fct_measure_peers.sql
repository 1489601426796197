-- The rows of int_measure__peer_funnel, published under their contract (the yml beside this file):
-- the report's peer charts and CSP funnel plots read them.
with

peer_funnel as (

    select * from {{ ref('int_measure__peer_funnel') }}

)

select * from peer_funnel
