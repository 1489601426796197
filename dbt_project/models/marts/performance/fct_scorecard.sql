with

assessment as (

    select * from {{ ref('fct_measure_assessment') }}

),

latest as (

    -- The latest quarter each force can be reported for.
    select * from assessment
    where is_latest_reporting_period

)

select * exclude (is_latest_reporting_period) from latest
