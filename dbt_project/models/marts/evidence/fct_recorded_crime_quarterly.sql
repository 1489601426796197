with

recorded_crime as (

    select * from {{ ref('int_recorded_crime__csp_quarterly') }}

),

population as (

    select * from {{ ref('int_population__areas') }}

),

csp_population as (

    select
        area_code as csp_code,
        population_year,
        population_count
    from population
    where area_type = 'community_safety_partnership'
        and population_source = 'mid_year_estimate'
        and sex = 'persons'
        and age_band = 'all ages'
        and ethnic_group = 'all'

),

population_choice as (

    -- The mid-year estimate nearest the start of the financial year (mid-2023 for 2023/24);
    -- when two are equally near, the later one. The year used is kept beside the rate.
    select
        recorded_crime.financial_year_start,
        csp_population.csp_code,
        csp_population.population_year,
        csp_population.population_count,
        {{ nearest_year_rank('csp_population.population_year', 'recorded_crime.financial_year_start', [
            'recorded_crime.financial_year_start', 'csp_population.csp_code'
        ]) }} as preference
    from (select distinct financial_year_start, csp_code from recorded_crime) as recorded_crime
    inner join csp_population
        on recorded_crime.csp_code = csp_population.csp_code

),

with_rates as (

    select
        recorded_crime.*,
        population_choice.population_year,
        population_choice.population_count,
        -- crimes in the quarter per 1,000 residents (not annualised); rates of one CSP-quarter
        -- add up across offence codes because they share the denominator
        recorded_crime.offence_count * 1000.0 / nullif(population_choice.population_count, 0)
            as offences_per_1000_population
    from recorded_crime
    left join population_choice
        on recorded_crime.financial_year_start = population_choice.financial_year_start
        and recorded_crime.csp_code = population_choice.csp_code
        and population_choice.preference = 1

),

final as (

    select
        {{ contract_columns() }}
    from with_rates

)

select * from final
