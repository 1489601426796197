-- Most similar groups: for each force, the forces its measures are ranked among (its peers and
-- itself), from the seed when it can be read.
{%- set groups = plan_relation('most_similar_groups') %}

with

{% if groups.relation is not none -%}
most_similar_groups as (

    select * from {{ groups.relation }}

),
{%- else -%}
most_similar_groups as (

    -- {{ groups.reason }}
    select cast(null as varchar) as force_id, cast(null as varchar) as peer_force_id where false

),
{%- endif %}

peers as (

    select distinct
        cast(force_id as varchar) as force_id,
        cast(peer_force_id as varchar) as member_force_id
    from most_similar_groups

),

members as (

    select * from peers
    union
    select distinct force_id, force_id from peers

),

with_group_size as (

    select
        *,
        count(*) over (partition by force_id) as group_size
    from members

)

select * from with_group_size
