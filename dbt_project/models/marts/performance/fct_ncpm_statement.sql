{%- set baseline_end = "date '" ~ var('ncpm_baseline_period_end') ~ "'" -%}
with

measure_values as (

    select * from {{ ref('int_ncpm__values') }}

),

measures as (

    select * from {{ ref('ncpm_measures') }}

),

peers as (

    select * from {{ ref('most_similar_groups') }}

),

forces as (

    select * from {{ ref('police_forces') }}

),

-- each force's figure with what pools it: a count adds up; a ratio with a numerator and a
-- denominator (call handling) pools as the sum of numerators over the sum of denominators; a
-- survey share has neither and is never pooled
poolable as (

    select
        measure_values.*,
        measures.unit,
        forces.is_territorial and forces.country in ('England', 'Wales') as is_england_and_wales_force_area
    from measure_values
    inner join measures using (measure_id)
    inner join forces using (force_id)
    where measures.unit = 'count' or measure_values.denominator is not null

),

-- how many forces the source has a figure from, per measure and period: 1 is the force's own
-- rows only, and the statement says so rather than leaving the comparison blank
source_coverage as (

    select
        measure_id,
        period_end_date,
        count(distinct force_id) as source_force_count
    from measure_values
    group by all

),

-- England and Wales: the territorial force areas of England and Wales (not Northern Ireland)
-- pooled, only where every one has a figure
england_and_wales as (

    select
        measure_id,
        period_end_date,
        case when unit = 'count' then sum(value)
             else round({{ ncpm_ratio('unit', 'sum(numerator)', 'sum(denominator)') }}, 1) end as value
    from poolable
    where is_england_and_wales_force_area
    group by measure_id, period_end_date, unit
    having count(distinct force_id) = {{ var('ncpm_england_and_wales_forces') }}

),

-- the force's most similar group: its peers pooled, only where every peer has a figure
group_sizes as (

    select force_id, count(*) as peer_count
    from peers
    group by all

),

most_similar_group as (

    select
        peers.force_id,
        poolable.measure_id,
        poolable.period_end_date,
        case when poolable.unit = 'count' then sum(poolable.value)
             else round({{ ncpm_ratio('poolable.unit', 'sum(poolable.numerator)', 'sum(poolable.denominator)') }}, 1)
        end as value,
        count(*) as msg_force_count
    from peers
    inner join poolable on poolable.force_id = peers.peer_force_id
    inner join group_sizes on group_sizes.force_id = peers.force_id
    group by peers.force_id, poolable.measure_id, poolable.period_end_date, poolable.unit
    having count(*) = max(group_sizes.peer_count)

),

-- each point with the period ends it is compared at: the 12 months before it, and the national
-- baseline year
points as (

    select
        *,
        last_day((period_end_date - interval 12 month)::date) as previous_period_end_date,
        {{ baseline_end }} as baseline_period_end_date
    from measure_values

),

compared as (

    select
        latest.force_id,
        latest.measure_id,
        latest.period_end_date,
        (latest.period_end_date - interval 12 month + interval 1 day)::date as period_start_date,
        latest.value,
        latest.value_lower_95,
        latest.value_upper_95,
        latest.respondent_count,
        previous.value as previous_value,
        baseline.value as baseline_value,
        national.value as england_wales_value,
        national_previous.value as england_wales_previous_value,
        national_baseline.value as england_wales_baseline_value,
        msg.value as msg_value,
        msg_previous.value as msg_previous_value,
        msg_baseline.value as msg_baseline_value,
        msg.msg_force_count,
        coverage.source_force_count,
        latest.source_file
    from points as latest
    left join measure_values as previous
        on {{ keys_match('previous', 'latest', ['force_id', 'measure_id']) }}
        and previous.period_end_date = latest.previous_period_end_date
    left join measure_values as baseline
        on {{ keys_match('baseline', 'latest', ['force_id', 'measure_id']) }}
        and baseline.period_end_date = latest.baseline_period_end_date
    left join england_and_wales as national
        on {{ keys_match('national', 'latest', ['measure_id', 'period_end_date']) }}
    left join england_and_wales as national_previous
        on {{ keys_match('national_previous', 'latest', ['measure_id']) }}
        and national_previous.period_end_date = latest.previous_period_end_date
    left join england_and_wales as national_baseline
        on {{ keys_match('national_baseline', 'latest', ['measure_id']) }}
        and national_baseline.period_end_date = latest.baseline_period_end_date
    left join most_similar_group as msg
        on {{ keys_match('msg', 'latest', ['force_id', 'measure_id', 'period_end_date']) }}
    left join most_similar_group as msg_previous
        on {{ keys_match('msg_previous', 'latest', ['force_id', 'measure_id']) }}
        and msg_previous.period_end_date = latest.previous_period_end_date
    left join most_similar_group as msg_baseline
        on {{ keys_match('msg_baseline', 'latest', ['force_id', 'measure_id']) }}
        and msg_baseline.period_end_date = latest.baseline_period_end_date
    inner join source_coverage as coverage
        on {{ keys_match('coverage', 'latest', ['measure_id', 'period_end_date']) }}

),

-- counts change in per cent; shares change in percentage points (change_*) and per cent
with_changes as (

    select
        compared.*,
        value - previous_value as change_from_previous,
        {{ ncpm_percent_change('value', 'previous_value') }} as change_from_previous_percent,
        value - baseline_value as change_from_baseline,
        {{ ncpm_percent_change('value', 'baseline_value') }} as change_from_baseline_percent,
        {{ ncpm_percent_change('england_wales_value', 'england_wales_previous_value') }}
            as england_wales_change_from_previous_percent,
        {{ ncpm_percent_change('england_wales_value', 'england_wales_baseline_value') }}
            as england_wales_change_from_baseline_percent,
        {{ ncpm_percent_change('msg_value', 'msg_previous_value') }} as msg_change_from_previous_percent,
        {{ ncpm_percent_change('msg_value', 'msg_baseline_value') }} as msg_change_from_baseline_percent
    from compared

)

select
    -- ids
    force_id,
    measure_id,
    -- dates: the 12 months counted
    period_start_date,
    period_end_date,
    -- the force
    value,
    value_lower_95,
    value_upper_95,
    respondent_count,
    previous_value,
    baseline_value,
    change_from_previous,
    change_from_previous_percent,
    change_from_baseline,
    change_from_baseline_percent,
    -- England and Wales
    england_wales_value,
    england_wales_previous_value,
    england_wales_baseline_value,
    england_wales_change_from_previous_percent,
    england_wales_change_from_baseline_percent,
    -- most similar group (the force's peers, without the force)
    msg_value,
    msg_previous_value,
    msg_baseline_value,
    msg_change_from_previous_percent,
    msg_change_from_baseline_percent,
    msg_force_count,
    -- what the source covers: 1 = the force's own rows only (no comparison is possible)
    source_force_count,
    -- lineage
    source_file
from with_changes
