with

rolling_year as (

    select * from {{ ref('int_recorded_crime__rolling_year') }}

)

select
    -- ids
    force_id,
    offence,
    -- dates: the 12 months to period_end_date, keyed for the scorecard by the quarter they end in
    (period_end_date - interval 12 month + interval 1 day)::date as period_start_date,
    period_end_date,
    date_trunc('quarter', period_end_date)::date as quarter_start_date,
    -- measures
    rolling_year_offence_count::bigint as offence_count,
    -- lineage
    edition,
    source_file
from rolling_year
