with

funding as (

    select * from {{ ref('fct_funding') }}

),

grants as (

    select * from {{ ref('fct_crime_reduction_grants') }}

),

settlement as (

    select * from {{ ref('fct_police_grant_settlement') }}

),

population as (

    select * from {{ ref('fct_population') }}

),

plan_years as (

    -- The force's newest plan speaks for every year it covers.
    select * from funding
    where is_latest_plan

),

grant_years as (

    select
        force_id,
        financial_year,
        sum(amount_gbp) as crime_reduction_grants_gbp
    from grants
    where is_latest_plan
    group by force_id, financial_year

),

force_years as (

    select force_id, financial_year, financial_year_start from plan_years
    union
    select force_id, financial_year, financial_year_start from settlement

),

force_area_population as (

    -- Residents of the police force area (all persons, all ages) by mid-year.
    select
        force_id,
        population_year,
        population_count
    from population
    where area_type = 'police_force_area'
        and population_source = 'mid_year_estimate'
        and is_total_population
        and force_id is not null

),

with_population as (

    -- The newest mid-year estimate at or before the financial year's start (mid-2025 for
    -- 2025/26; an older one until ONS publishes it).
    select
        force_years.*,
        force_area_population.population_year,
        force_area_population.population_count
    from force_years
    left join force_area_population
        on force_years.force_id = force_area_population.force_id
        and force_area_population.population_year <= force_years.financial_year_start
    qualify row_number() over (
        partition by force_years.force_id, force_years.financial_year
        order by force_area_population.population_year desc nulls last
    ) = 1

),

joined as (

    select
        with_population.*,
        plan_years.net_revenue_budget_gbp,
        plan_years.police_grant_gbp,
        plan_years.precept_gbp,
        plan_years.total_funding_gbp,
        grant_years.crime_reduction_grants_gbp,
        settlement.grant_gbp as settlement_police_grant_gbp,
        plan_years.force_id is not null as has_plan
    from with_population
    left join plan_years
        on {{ keys_match('with_population', 'plan_years', ['force_id', 'financial_year']) }}
    left join grant_years
        on {{ keys_match('with_population', 'grant_years', ['force_id', 'financial_year']) }}
    left join settlement
        on {{ keys_match('with_population', 'settlement', ['force_id', 'financial_year']) }}

),

per_head as (

    select
        *,
        net_revenue_budget_gbp / population_count as net_revenue_budget_per_head_gbp,
        total_funding_gbp / population_count as total_funding_per_head_gbp,
        precept_gbp / population_count as precept_per_head_gbp,
        crime_reduction_grants_gbp / population_count as crime_reduction_grants_per_head_gbp,
        settlement_police_grant_gbp / population_count as settlement_police_grant_per_head_gbp
    from joined

),

final as (

    select
        {{ contract_columns() }}
    from per_head

)

select * from final
