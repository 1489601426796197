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
        cast(neighbourhood_key as varchar) as neighbourhood_key,
        cast(force_id as varchar) as force_id,
        cast(force_name as varchar) as force_name,
        cast(neighbourhood_id as varchar) as neighbourhood_id,
        cast(neighbourhood_name as varchar) as neighbourhood_name,
        cast(description_text as varchar) as description_text,
        cast(population_count as bigint) as population_count,
        cast(centre_latitude as double) as centre_latitude,
        cast(centre_longitude as double) as centre_longitude,
        cast(team_email as varchar) as team_email,
        cast(team_telephone as varchar) as team_telephone,
        cast(force_page_url as varchar) as force_page_url,
        cast(priority_count as bigint) as priority_count,
        cast(priority_with_action_count as bigint) as priority_with_action_count,
        cast(latest_priority_issued_on as date) as latest_priority_issued_on,
        cast(loaded_at as timestamp) as loaded_at
    from neighbourhoods_with_priorities

)

select * from final
