-- One row per crime, built crime by crime: an incremental run rebuilds only the crimes whose
-- street rows or outcome events were loaded since this model's last build (a new month's crimes,
-- and the older crimes its outcomes file updates), however far back their cohort month is.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='crime_id',
    on_schema_change='fail',
    tags=['police_uk_incremental'],
    post_hook="{{ police_uk_delete_vanished_crimes() }}",
) }}

-- Import CTEs are `not materialized`: the incremental branch reads them more than once, and
-- DuckDB would otherwise copy every row of history into a temporary result instead of pushing
-- each reader's filters (months, crime ids) into the scan.
with

street_crimes as not materialized (

    select * from {{ ref('int_crime__street_crimes_with_outcome_group') }}

),

outcome_events as not materialized (

    select * from {{ ref('stg_police_uk__outcomes') }}

),

outcome_categories as (

    select * from {{ ref('outcome_categories') }}

),

{% if is_incremental() %}

existing_cohort as not materialized (

    select * from {{ this }}

),

changed_street_months as (

    select cast(_month || '-01' as date) as month_start
    from ({{ police_uk_changed_months_relation(source('police_uk', 'street')) }})

),

changed_outcome_months as (

    select cast(_month || '-01' as date) as month_start
    from ({{ police_uk_changed_months_relation(source('police_uk', 'outcomes')) }})

),

crimes_to_rebuild as (

    -- crimes in a street month just loaded (new, or re-issued by the publisher)
    select crime_id from street_crimes
    where source_month in ({{ police_uk_changed_months(source('police_uk', 'street')) }}) and crime_id is not null
    union
    -- crimes of a re-issued street month as built before (the new file may have dropped them)
    select crime_id from existing_cohort
    where cohort_month_start in (select month_start from changed_street_months)
    union
    -- crimes with an outcome event in an outcomes month just loaded: these reach back to older cohorts
    select crime_id from outcome_events
    where source_month in ({{ police_uk_changed_months(source('police_uk', 'outcomes')) }}) and crime_id is not null
    union
    -- crimes whose events span a re-issued outcomes month (the new file may have dropped an event)
    select existing_cohort.crime_id from existing_cohort
    join changed_outcome_months
        on changed_outcome_months.month_start
            between existing_cohort.first_outcome_month_start and existing_cohort.latest_outcome_event_month_start

),

street_crimes_to_rebuild as (

    select * from street_crimes
    where crime_id in (select crime_id from crimes_to_rebuild)

),

outcome_events_to_rebuild as (

    select * from outcome_events
    where crime_id in (select crime_id from crimes_to_rebuild)

),

{% else %}

street_crimes_to_rebuild as (

    select * from street_crimes

),

outcome_events_to_rebuild as (

    select * from outcome_events

),

{% endif %}

crimes_that_can_have_outcomes as (

    -- Anti-social behaviour has no outcomes; British Transport Police publishes no crime
    -- ids and no outcomes, so its crimes cannot join to an outcome either.
    select * from street_crimes_to_rebuild
    where not is_anti_social_behaviour
        and crime_id is not null

),

street_rows_ranked as (

    -- How each copy of a crime ranks when a file repeats a crime id: earliest month first, then
    -- the last outcome that got furthest, then a hash of the rest of the row (any fixed order
    -- will do; this one costs one 64-bit number per row instead of sorting strings).
    select
        *,
        {{ police_uk_rank_key('(year(month_start) - 2000) * 12 + month(month_start)', outcome_group_precedence('last_outcome_group'),
                              ['last_outcome_category', 'lsoa_code', 'source_file', 'crime_type', 'force_id']) }}
            as copy_rank
    from crimes_that_can_have_outcomes

),

crimes as (

    -- One row per crime id: the fields of its first-ranked copy. One hash aggregate with
    -- arg_min on a number, far cheaper than numbering every crime's rows with a window.
    select
        crime_id,
        arg_min(force_id, copy_rank) as force_id,
        min(month_start) as cohort_month_start,
        arg_min(crime_type, copy_rank) as crime_type,
        arg_min(lsoa_code, copy_rank) as lsoa_code,
        arg_min(last_outcome_category, copy_rank) as street_last_outcome_category,
        count(*) as street_record_count
    from street_rows_ranked
    group by crime_id

),

events_with_group as (

    select
        outcome_events.crime_id,
        outcome_events.outcome_month_start,
        outcome_events.outcome_category,
        outcome_categories.outcome_group,
        -- the latest month first; two events in that month: the one that got furthest
        {{ police_uk_rank_key("date_diff('month', outcome_events.outcome_month_start, date '2100-01-01')",
                              outcome_group_precedence('outcome_categories.outcome_group'),
                              ['outcome_events.outcome_category']) }} as event_rank
    from outcome_events_to_rebuild as outcome_events
    left join outcome_categories
        on outcome_events.outcome_category = outcome_categories.outcome_category
    where outcome_events.crime_id is not null

),

events_per_crime as (

    select
        crime_id,
        count(*) as outcome_event_count,
        min(outcome_month_start) as first_outcome_month_start,
        max(outcome_month_start) as latest_outcome_event_month_start,
        arg_min(outcome_category, event_rank) as latest_outcome_event_category
    from events_with_group
    group by crime_id

),

crimes_with_events as (

    -- Events whose crime is not in a loaded street file (crimes before the loaded
    -- window) drop out here: a cohort only holds crimes we can count.
    select
        crimes.*,
        coalesce(events_per_crime.outcome_event_count, 0) as outcome_event_count,
        events_per_crime.first_outcome_month_start,
        events_per_crime.latest_outcome_event_month_start,
        events_per_crime.latest_outcome_event_category
    from crimes
    left join events_per_crime
        on crimes.crime_id = events_per_crime.crime_id

),

latest_outcome as (

    -- The latest outcome event when there is one; otherwise the street file's last outcome.
    select
        *,
        coalesce(latest_outcome_event_category, street_last_outcome_category) as latest_outcome_category,
        case
            when latest_outcome_event_category is not null then 'outcomes'
            when street_last_outcome_category is not null then 'street'
        end as latest_outcome_source
    from crimes_with_events

),

with_outcome_group as (

    select
        latest_outcome.*,
        outcome_categories.outcome_group as latest_outcome_group,
        coalesce(outcome_categories.is_charge_or_summons, false) as is_charged_or_summonsed,
        coalesce(outcome_categories.is_resolved, false) as is_resolved,
        date_diff(
            'month', latest_outcome.cohort_month_start, latest_outcome.latest_outcome_event_month_start
        ) as months_to_latest_outcome_event,
        {{ police_uk_run_started_at() }} as built_at
    from latest_outcome
    left join outcome_categories
        on latest_outcome.latest_outcome_category = outcome_categories.outcome_category

)

select * from with_outcome_group
