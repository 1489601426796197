with

monthly as (

    select * from {{ ref('stg_call_handling__monthly') }}

)

select
    -- ids
    force_id,
    -- dates
    month_start,
    -- 999
    calls_999_received_count,
    calls_999_answered_count,
    calls_999_answered_within_10s_count,
    calls_999_answered_within_10s_count / nullif(calls_999_received_count, 0) as calls_999_within_10s_share,
    calls_999_answered_within_10s_count / nullif(calls_999_received_count, 0)
        >= {{ var('calls_999_standard_share') }} as meets_999_standard,
    -- 101
    calls_101_received_count,
    calls_101_answered_count,
    calls_101_abandoned_count,
    calls_101_abandoned_count / nullif(calls_101_received_count, 0) as calls_101_abandoned_share,
    calls_101_average_answer_seconds,
    -- the mean times answered calls, so months add up to a mean over any run of them
    calls_101_average_answer_seconds * calls_101_answered_count as calls_101_answer_seconds_total,
    -- lineage
    source_file
from monthly
