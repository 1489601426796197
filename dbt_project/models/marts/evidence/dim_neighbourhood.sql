with

neighbourhoods as (

    select * from {{ ref('stg_police_uk_api__neighbourhoods') }}

),

priorities as (

    select * from {{ ref('stg_police_uk_api__neighbourhood_priorities') }}

),

forces as (

    select * from {{ ref('dim_force') }}

),

priorities_per_neighbourhood as (

    select
        neighbourhood_key,
        count(*) as priority_count,
        count(*) filter (where has_action) as priority_with_action_count,
        max(issued_on) as latest_priority_issued_on
    from priorities
    group by neighbourhood_key

),

neighbourhoods_with_priorities as (

    select
        neighbourhoods.neighbourhood_key,
        neighbourhoods.force_id,
        forces.force_name,
        neighbourhoods.neighbourhood_id,
        neighbourhoods.neighbourhood_name,
        neighbourhoods.description_text,
        neighbourhoods.population_count,
        neighbourhoods.centre_latitude,
        neighbourhoods.centre_longitude,
        neighbourhoods.team_email,
        neighbourhoods.team_telephone,
        neighbourhoods.force_page_url,
        coalesce(priorities_per_neighbourhood.priority_count, 0) as priority_count,
        coalesce(priorities_per_neighbourhood.priority_with_action_count, 0) as priority_with_action_count,
        priorities_per_neighbourhood.latest_priority_issued_on,
        neighbourhoods.loaded_at
    from neighbourhoods
    left join forces
        on neighbourhoods.force_id = forces.force_id
    left join priorities_per_neighbourhood
        on neighbourhoods.neighbourhood_key = priorities_per_neighbourhood.neighbourhood_key

),

final as (

    select
        {{ contract_columns() }}
    from neighbourhoods_with_priorities

)

select * from final
