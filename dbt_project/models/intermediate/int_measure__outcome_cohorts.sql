-- Crime cohorts observed for the same time: for every window a plan measure on fct_outcomes
-- waits for (its maturity_months), each force, crime type and month of recording, the crimes
-- recorded, those charged or summonsed within that many months of the month they were recorded
-- in, and those with a positive outcome (a charge or summons, or an out-of-court disposal) within
-- them. A cohort's outcomes count only once it has been observed that long (NULL before): the
-- current period and the period a year earlier are then compared at the same age, instead of a
-- young cohort against an old one that has had a year longer to reach charge.
-- int_measure__mart_values reads it in place of fct_outcomes for such measures. A table.
{{ config(materialized='table') }}
-- crime_cohort is `not materialized`: it is read twice (every crime, and each force's latest month),
-- and DuckDB would otherwise copy the whole per-crime table, every column, into a temporary result
-- first (the demo's build: 0.64-1.06 s against 0.50 s, same rows).
with

crime_cohort as not materialized (

    select * from {{ ref('int_outcomes__crime_cohort') }}

),

outcome_events as (

    select * from {{ ref('stg_police_uk__outcomes') }}

),

outcome_categories as (

    select * from {{ ref('outcome_categories') }}

),

crime_types as (

    select * from {{ ref('crime_types') }}

),

plan as (

    select * from {{ ref('int_measure__plan') }}

),

windows as (

    select distinct cast(maturity_months as integer) as window_months
    from plan
    where mart = 'fct_outcomes' and maturity_months > 0

),

first_charge as (

    -- The month of each crime's first charge or summons (or court outcome that follows one), and
    -- of its first positive outcome (a charge or summons, or an out-of-court disposal).
    select
        outcome_events.crime_id,
        min(outcome_events.outcome_month_start) filter (where outcome_categories.is_charge_or_summons)
            as first_charge_month_start,
        min(outcome_events.outcome_month_start) as first_positive_month_start
    from outcome_events
    inner join outcome_categories
        on outcome_events.outcome_category = outcome_categories.outcome_category
    where outcome_categories.is_charge_or_summons or outcome_categories.outcome_group = 'out_of_court'
    group by outcome_events.crime_id

),

street_outcome as (

    select
        outcome_category,
        is_charge_or_summons,
        is_charge_or_summons or outcome_group = 'out_of_court' as is_positive
    from outcome_categories

),

crimes as (

    -- A crime without any outcome event is judged by its street file's last outcome, which
    -- the file of its own month publishes: known within any window.
    select
        crime_cohort.force_id,
        crime_cohort.crime_type,
        crime_cohort.cohort_month_start,
        case
            when crime_cohort.outcome_event_count = 0 and coalesce(street_outcome.is_charge_or_summons, false)
                then crime_cohort.cohort_month_start
            else first_charge.first_charge_month_start
        end as charge_known_month_start,
        case
            when crime_cohort.outcome_event_count = 0 and coalesce(street_outcome.is_positive, false)
                then crime_cohort.cohort_month_start
            else first_charge.first_positive_month_start
        end as positive_known_month_start
    from crime_cohort
    left join first_charge
        on crime_cohort.crime_id = first_charge.crime_id
    left join street_outcome
        on crime_cohort.street_last_outcome_category = street_outcome.outcome_category

),

observed_to as (

    -- The force's latest month loaded: a cohort is observed up to it.
    select force_id, max(cohort_month_start) as latest_month_start
    from crime_cohort
    group by force_id

),

cohorts as (

    select
        windows.window_months,
        crimes.force_id,
        crimes.crime_type,
        crimes.cohort_month_start as month_start,
        count(*) as crime_count,
        count(*) filter (
            where date_diff('month', crimes.cohort_month_start, crimes.charge_known_month_start) <= windows.window_months
        ) as charge_summons_count,
        count(*) filter (
            where date_diff('month', crimes.cohort_month_start, crimes.positive_known_month_start) <= windows.window_months
        ) as positive_outcome_count
    from crimes
    cross join windows
    group by all

),

final as (

    select
        cast(cohorts.window_months as integer) as window_months,
        cast(cohorts.month_start as date) as month_start,
        cast(cohorts.force_id as varchar) as force_id,
        cast(cohorts.crime_type as varchar) as crime_type,
        cast(crime_types.is_neighbourhood_crime as boolean) as is_neighbourhood_crime,
        cast(cohorts.month_start + to_months(cohorts.window_months) <= observed_to.latest_month_start as boolean)
            as is_observed_for_window,
        cast(cohorts.crime_count as bigint) as crime_count,
        cast(case when cohorts.month_start + to_months(cohorts.window_months) <= observed_to.latest_month_start
            then cohorts.charge_summons_count end as bigint) as charge_summons_count,
        cast(case when cohorts.month_start + to_months(cohorts.window_months) <= observed_to.latest_month_start
            then cohorts.positive_outcome_count end as bigint) as positive_outcome_count
    from cohorts
    inner join observed_to
        on cohorts.force_id = observed_to.force_id
    left join crime_types
        on cohorts.crime_type = crime_types.crime_type

)

select * from final
