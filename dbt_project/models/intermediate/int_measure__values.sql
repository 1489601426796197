-- The statistics behind performance.fct_measure_values, which publishes these rows as they are (documented and
-- contracted there). A table: the mart and the assessment steps (int_measure__assessed_*) read it.
{{ config(materialized='table') }}
with

covered_periods as (

    select * from {{ ref('int_measure__covered_periods') }}

),

mart_values as (

    select * from {{ ref('int_measure__mart_values') }}

),

population as (

    select * from {{ ref('int_measure__population') }}

),

areas as (

    select * from {{ ref('int_measure__areas') }}

),

measure_area_periods as (

    -- Every area and period the measure's mart covers: a measure counts zero where nothing passed its
    -- filter. Disproportionality compares ethnic groups: fct_stop_search_disproportionality. A measure
    -- whose filter matches no row of its mart anywhere has no values (a data gap, not zeros).
    select * from covered_periods
    where statistic <> 'disproportionality'
        and measure_id in (select measure_id from mart_values)

),

force_sums as (

    select
        measure_id, 'force' as area_type, force_id as area_code, period_start,
        sum(numerator) as numerator, sum(denominator) as denominator
    from mart_values
    group by all

),

csp_sums as (

    select
        measure_id, 'csp' as area_type, csp_code as area_code, period_start,
        sum(numerator) as numerator, sum(denominator) as denominator
    from mart_values
    where csp_code is not null
    group by all

),

area_sums as (

    select * from force_sums
    union all
    select * from csp_sums

),

native_periods as (

    select
        measure_area_periods.*,
        -- nothing passed the filter: zero; rows whose column is empty (not reported yet): NULL
        case when area_sums.measure_id is null then 0 else area_sums.numerator end as numerator,
        case when measure_area_periods.statistic not in ('proportion', 'ratio') then null
            when area_sums.measure_id is null then 0 else area_sums.denominator
        end as denominator
    from measure_area_periods
    left join area_sums
        on {{ keys_match('measure_area_periods', 'area_sums', ['measure_id', 'area_type', 'area_code', 'period_start']) }}

),

months as (

    select
        measure_id, statistic, area_type, area_code, force_id,
        'month' as period_type,
        period_start,
        cast(period_start + interval 1 month - interval 1 day as date) as period_end,
        1 as month_count,
        numerator,
        denominator
    from native_periods
    where period_grain = 'month'

),

quarters_from_months as (

    -- Only whole quarters: all three months covered.
    select
        measure_id, statistic, area_type, area_code, force_id,
        'quarter' as period_type,
        cast(date_trunc('quarter', period_start) as date) as period_start,
        cast(date_trunc('quarter', period_start) + interval 3 month - interval 1 day as date) as period_end,
        count(*) as month_count,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from native_periods
    where period_grain = 'month'
    group by all
    having count(*) = 3

),

native_quarters_and_years as (

    select
        measure_id, statistic, area_type, area_code, force_id,
        period_grain as period_type,
        period_start,
        cast(period_start + case period_grain when 'quarter' then interval 3 month else interval 12 month end
            - interval 1 day as date) as period_end,
        case period_grain when 'quarter' then 3 else 12 end as month_count,
        numerator,
        denominator
    from native_periods
    where period_grain in ('quarter', 'year')

),

all_periods as (

    select * from months
    union all
    select * from quarters_from_months
    union all
    select * from native_quarters_and_years

),

total_population as (

    select * from population where population_kind = 'total'

),

population_choice as (

    -- The mid-year estimate nearest the period's year (the later one when two are as near).
    select
        periods.area_type,
        periods.area_code,
        periods.period_year,
        total_population.population_year,
        total_population.population_count,
        {{ nearest_year_rank('total_population.population_year', 'periods.period_year', [
            'periods.area_type', 'periods.area_code', 'periods.period_year'
        ]) }} as preference
    from (select distinct area_type, area_code, year(period_start) as period_year from all_periods) as periods
    inner join total_population
        on periods.area_type = total_population.area_type
        and periods.area_code = total_population.area_code

),

with_population as (

    select
        all_periods.*,
        case when all_periods.statistic = 'rate_per_1000_population' then population_choice.population_count end
            as population,
        case when all_periods.statistic = 'rate_per_1000_population' then population_choice.population_year end
            as population_year
    from all_periods
    left join population_choice
        on all_periods.area_type = population_choice.area_type
        and all_periods.area_code = population_choice.area_code
        and year(all_periods.period_start) = population_choice.period_year
        and population_choice.preference = 1

),

with_values as (

    select
        *,
        case statistic
            when 'count' then numerator
            when 'total' then numerator
            when 'rate_per_1000_population' then numerator * 1000.0 / nullif(population, 0)
            when 'proportion' then numerator / nullif(denominator, 0)
            when 'ratio' then numerator / nullif(denominator, 0)
        end as value,
        case statistic
            when 'count' then {{ poisson_lower('numerator') }}
            when 'rate_per_1000_population' then {{ poisson_lower('numerator') }} * 1000.0 / nullif(population, 0)
            when 'proportion' then {{ wilson_lower('numerator', 'denominator') }}
        end as value_lower_95,
        case statistic
            when 'count' then {{ poisson_upper('numerator') }}
            when 'rate_per_1000_population' then {{ poisson_upper('numerator') }} * 1000.0 / nullif(population, 0)
            when 'proportion' then {{ wilson_upper('numerator', 'denominator') }}
        end as value_upper_95,
        case statistic
            when 'count' then 'Poisson (Byar)'
            when 'rate_per_1000_population' then 'Poisson (Byar)'
            when 'proportion' then 'Wilson score'
        end as interval_method
    from with_population

),

published_values as (

    -- rounded for publication, and what is derived from the steps above
    select
        with_values.* replace (
            {{ stat_round('with_values.value') }} as value,
            {{ stat_round('with_values.value_lower_95') }} as value_lower_95,
            {{ stat_round('with_values.value_upper_95') }} as value_upper_95
        ),
        coalesce(areas.area_name, with_values.area_code) as area_name,
        case with_values.period_type
            when 'month' then strftime(with_values.period_start, '%Y-%m')
            when 'quarter' then {{ quarter_label('with_values.period_start') }}
            when 'year' then case when month(with_values.period_start) = 4
                then strftime(with_values.period_start, '%Y') || '-' || strftime(with_values.period_start + interval 1 year, '%y')
                else strftime(with_values.period_start, '%Y') end
        end as period_label
    from with_values
    left join areas
        on with_values.area_type = areas.area_type
        and with_values.area_code = areas.area_code

),

final as (

    select {{ contract_columns(of='fct_measure_values') }}
    from published_values

)

select * from final
