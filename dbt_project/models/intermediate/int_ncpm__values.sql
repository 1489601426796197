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

-- each source's rows with the columns it has, the others empty: a count has no interval, the
-- survey no numerator and denominator to pool on, nor a source file
unioned as (

    select * exclude (edition) from recorded_crime
    union all by name
    select * from victim_satisfaction
    union all by name
    select * from call_handling

),

final as (

    select
        measure_id,
        force_id,
        period_end_date,
        value,
        value_lower_95,
        value_upper_95,
        respondent_count,
        numerator,
        denominator,
        source_file
    from unioned

)

select * from final
