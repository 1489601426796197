with

police_forces as (

    select * from {{ ref('police_forces') }}

),

crime_monthly as (

    select * from {{ ref('fct_crime_monthly') }}

),

outcome_events as (

    select * from {{ ref('stg_police_uk__outcomes') }}

),

stop_search_monthly as (

    select * from {{ ref('fct_stop_search_monthly') }}

),

street_months as (

    select
        force_id,
        min(month_start) as first_month_start,
        max(month_start) as last_month_start,
        count(distinct month_start) as month_with_street_data_count
    from crime_monthly
    group by force_id

),

forces_with_outcomes as (

    select distinct force_id from outcome_events

),

forces_with_stop_search as (

    select distinct force_id from stop_search_monthly

),

forces_with_coverage as (

    select
        police_forces.force_id,
        police_forces.force_name,
        police_forces.is_territorial,
        police_forces.country,
        police_forces.region,
        street_months.first_month_start,
        street_months.last_month_start,
        coalesce(street_months.month_with_street_data_count, 0) as month_with_street_data_count,
        forces_with_outcomes.force_id is not null as has_outcomes,
        forces_with_stop_search.force_id is not null as has_stop_search
    from police_forces
    left join street_months
        on police_forces.force_id = street_months.force_id
    left join forces_with_outcomes
        on police_forces.force_id = forces_with_outcomes.force_id
    left join forces_with_stop_search
        on police_forces.force_id = forces_with_stop_search.force_id

),

final as (

    select
        {{ contract_columns() }}
    from forces_with_coverage

)

select * from final
