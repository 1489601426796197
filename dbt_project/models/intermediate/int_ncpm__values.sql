-- Every NCPM measure's rolling 12-month values, one source per measure.
with

recorded_crime as (

    select * from {{ ref('int_ncpm__recorded_crime') }}

),

victim_satisfaction as (

    select * from {{ ref('int_ncpm__victim_satisfaction') }}

),

call_handling as (

    select * from {{ ref('int_ncpm__call_handling') }}

),

unioned as (

    select
        measure_id,
        force_id,
        period_end_date,
        value,
        null::double as value_lower_95,
        null::double as value_upper_95,
        null::double as respondent_count,
        null::double as numerator,
        null::double as denominator,
        source_file
    from recorded_crime

    union all

    select
        measure_id,
        force_id,
        period_end_date,
        value,
        value_lower_95,
        value_upper_95,
        respondent_count,
        null::double,
        null::double,
        null::varchar as source_file
    from victim_satisfaction

    union all

    select
        measure_id,
        force_id,
        period_end_date,
        value,
        null::double,
        null::double,
        respondent_count,
        numerator,
        denominator,
        source_file
    from call_handling

)

select * from unioned
