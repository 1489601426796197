-- Every area and period a measure's mart covers: the measure counts zero there when nothing passed
-- its filter, and has no value elsewhere. The measure values and the disproportionality both start here.
with

plan as (

    select * from {{ ref('int_measure__plan') }}

),

coverage as (

    select * from {{ ref('int_measure__mart_coverage') }}

),

covered_periods as (

    -- forces always; CSPs where the measure is reported for each CSP
    select
        plan.measure_id,
        plan.statistic,
        plan.period_grain,
        coverage.area_type,
        coverage.area_code,
        coverage.force_id,
        coverage.period_start
    from plan
    inner join coverage
        on plan.mart = coverage.mart
    where coverage.area_type = 'force' or plan.includes_csp

)

select * from covered_periods
