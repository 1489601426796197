-- The quarters each force can be reported for: all three months in at least one monthly mart.
with

coverage as (

    select * from {{ ref('int_measure__mart_coverage') }}

),

source_status as (

    select * from {{ ref('int_measure__source_status') }}

),

force_quarter_marts as (

    select
        coverage.force_id,
        cast(date_trunc('quarter', coverage.period_start) as date) as quarter_start
    from coverage
    inner join source_status
        on coverage.mart = source_status.source_name
        and source_status.grain = 'month'
    where coverage.area_type = 'force'
    group by coverage.force_id, coverage.mart, 2
    having count(distinct coverage.period_start) = 3

),

reporting_quarters as (

    select distinct force_id, quarter_start
    from force_quarter_marts

)

select * from reporting_quarters
