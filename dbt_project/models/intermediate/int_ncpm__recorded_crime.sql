with

rolling_year as (

    select * from {{ ref('int_recorded_crime__rolling_year') }}

),

offences as (

    select * from {{ ref('ncpm_recorded_crime_offences') }}

),

measure_counts as (

    select
        offences.measure_id,
        rolling_year.force_id,
        rolling_year.period_end_date,
        sum(rolling_year.rolling_year_offence_count)::double as value,
        max(rolling_year.edition) as edition,
        max(rolling_year.source_file) as source_file
    from rolling_year
    inner join offences on offences.offence = rolling_year.offence
    group by all

)

select * from measure_counts
