-- 999 answered within 10 seconds and 101 abandoned, each over the rolling 12 months to each month
-- with 12 months returned: a census of calls, so no interval.
with

monthly as (

    select * from {{ ref('stg_call_handling__monthly') }}

),

rolling_totals as (

    select
        month_end.force_id,
        last_day(month_end.month_start) as period_end_date,
        count(*) as months_returned,
        sum(monthly.calls_999_received_count) as calls_999_received_count,
        sum(monthly.calls_999_answered_within_10s_count) as calls_999_answered_within_10s_count,
        sum(monthly.calls_101_received_count) as calls_101_received_count,
        sum(monthly.calls_101_abandoned_count) as calls_101_abandoned_count,
        max(month_end.source_file) as source_file
    from monthly as month_end
    inner join monthly
        on monthly.force_id = month_end.force_id
        and monthly.month_start between month_end.month_start - interval 11 month and month_end.month_start
    group by all

),

measures as (

    select
        'calls_999_answered_10s' as measure_id,
        force_id,
        period_end_date,
        round(100.0 * calls_999_answered_within_10s_count / nullif(calls_999_received_count, 0), 1) as value,
        calls_999_received_count::double as respondent_count,
        source_file
    from rolling_totals
    where months_returned = 12

    union all

    select
        'calls_101_abandoned',
        force_id,
        period_end_date,
        round(100.0 * calls_101_abandoned_count / nullif(calls_101_received_count, 0), 1),
        calls_101_received_count::double,
        source_file
    from rolling_totals
    where months_returned = 12

)

select * from measures
