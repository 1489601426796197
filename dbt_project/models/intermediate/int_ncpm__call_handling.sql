-- 999 answered within 10 seconds, 101 abandoned and the 101 mean answer time, each over the
-- rolling 12 months to each month end with 12 months returned: a census of calls, so no interval.
-- Each measure keeps its numerator and denominator, so the statement can pool forces (most
-- similar group, England and Wales) the way the force's own figure is computed.
with

monthly as (

    select * from {{ ref('stg_call_handling__monthly') }}

),

ncpm_measures as (

    select * from {{ ref('ncpm_measures') }}

),

rolling_totals as (

    select
        month_end.force_id,
        last_day(month_end.month_start) as period_end_date,
        count(*) as months_returned,
        count(monthly.calls_101_received_count) as months_with_101,
        sum(monthly.calls_999_received_count) as calls_999_received_count,
        sum(monthly.calls_999_answered_within_10s_count) as calls_999_answered_within_10s_count,
        sum(monthly.calls_101_received_count) as calls_101_received_count,
        sum(monthly.calls_101_answered_count) as calls_101_answered_count,
        sum(monthly.calls_101_abandoned_count) as calls_101_abandoned_count,
        -- the monthly mean times the calls it averages: months add up to a mean over the year
        sum(monthly.calls_101_average_answer_seconds * monthly.calls_101_answered_count) as calls_101_answer_seconds_total,
        max(month_end.source_file) as source_file
    from monthly as month_end
    inner join monthly
        on monthly.force_id = month_end.force_id
        and {{ in_twelve_months_to('monthly.month_start', 'month_end.month_start') }}
    group by all

),

measures as (

    select
        'calls_999_answered_10s' as measure_id,
        force_id,
        period_end_date,
        calls_999_answered_within_10s_count::double as numerator,
        calls_999_received_count::double as denominator,
        calls_999_received_count::double as respondent_count,
        source_file
    from rolling_totals
    where months_returned = 12

    union all

    select
        'calls_101_abandoned',
        force_id,
        period_end_date,
        calls_101_abandoned_count::double,
        calls_101_received_count::double,
        calls_101_received_count::double,
        source_file
    from rolling_totals
    where months_with_101 = 12

    union all

    select
        'calls_101_average_answer_seconds',
        force_id,
        period_end_date,
        calls_101_answer_seconds_total::double,
        calls_101_answered_count::double,
        calls_101_answered_count::double,
        source_file
    from rolling_totals
    where months_with_101 = 12

),

with_values as (

    select
        measures.measure_id,
        measures.force_id,
        measures.period_end_date,
        round({{ ncpm_ratio('ncpm_measures.unit', 'measures.numerator', 'measures.denominator') }}, 1) as value,
        measures.numerator,
        measures.denominator,
        measures.respondent_count,
        measures.source_file
    from measures
    inner join ncpm_measures using (measure_id)

)

select * from with_values
