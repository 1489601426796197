-- One row per measure, area and reporting quarter: the period each measure is assessed on in
-- that quarter (a quarter, or the latest year with a value for annual measures).
with

plan as (

    select * from {{ ref('int_measure__plan') }}

),

reporting_quarters as (

    select * from {{ ref('int_measure__reporting_quarters') }}

),

measure_values as (

    select * from {{ ref('int_measure__values') }}

),

measure_areas as (

    select plan.measure_id, 'force' as area_type, forces.force_id as area_code, forces.force_id
    from plan
    cross join (select distinct force_id from reporting_quarters) as forces
    union all
    select distinct measure_id, area_type, area_code, force_id
    from measure_values
    where area_type = 'csp'

),

assessed_periods as (

    select
        measure_areas.*,
        reporting_quarters.quarter_start as reporting_period_start,
        plan.period_grain,
        plan.statistic,
        -- a measure that needs time to settle is reported for the latest quarter that old
        cast(reporting_quarters.quarter_start - to_months(3 * plan.maturity_quarters) as date) as assessed_quarter_start,
        cast(reporting_quarters.quarter_start + interval 3 month - interval 1 day as date) as reporting_period_end
    from measure_areas
    inner join plan
        on measure_areas.measure_id = plan.measure_id
    inner join reporting_quarters
        on measure_areas.force_id = reporting_quarters.force_id

),

year_values as (

    select * from measure_values where period_type = 'year' and value is not null

),

with_year_period as (

    -- Annual measures: the latest year with a value that had started by the end of the reporting
    -- quarter (a year's outturn or savings are reported after it ends).
    select
        assessed_periods.*,
        year_values.period_start as assessed_year_start
    from assessed_periods
    asof left join year_values
        on {{ keys_match('assessed_periods', 'year_values', ['measure_id', 'area_type', 'area_code']) }}
        and assessed_periods.reporting_period_end >= year_values.period_start

),

with_assessed_period as (

    select
        *,
        case when period_grain = 'year' then 'year' else 'quarter' end as assessed_period_type,
        case when period_grain = 'year' then assessed_year_start else assessed_quarter_start end as assessed_period_start
    from with_year_period

)

select * from with_assessed_period
