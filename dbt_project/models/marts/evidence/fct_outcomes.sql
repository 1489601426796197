-- Built cohort month by cohort month: an incremental run re-counts the cohort months that hold a
-- crime int_outcomes__crime_cohort rebuilt since this model's last build (a new month, and the older
-- months its outcomes reach back to), plus street months reloaded since (a crime may have left them).
{{ police_uk_incremental_config(unique_key='month_start', test_scope='cohort_months_rebuilt') }}

-- The street months loaded since this model's last build are looked up in the staging view.
-- depends_on: {{ ref('stg_police_uk__street_crimes') }}

-- crime_cohort is `not materialized`: the incremental branch reads it twice, and DuckDB would
-- otherwise copy every crime of history (all its columns) into a temporary result before filtering
-- it to the cohort months to re-count: 7 s of a new month's build at ten years of history, against
-- 0.14 s reading the table twice with the filters pushed into each scan (same rows).
with

crime_cohort as not materialized (

    select * from {{ ref('int_outcomes__crime_cohort') }}

),

{% if is_incremental() %}

cohort_months_to_build as (

    select distinct cohort_month_start as month_start from crime_cohort
    where built_at > {{ police_uk_last_built_at() }}
    union
    select month_start
    from ({{ police_uk_month_starts(police_uk_changed_month_list(ref('stg_police_uk__street_crimes'))) }})

),

crimes_to_count as (

    select * from crime_cohort
    where cohort_month_start in (select month_start from cohort_months_to_build)

),

{% else %}

crimes_to_count as (

    select * from crime_cohort

),

{% endif %}

crime_types as (

    select * from {{ ref('crime_types') }}

),

cohort_counts as (

    -- Each crime counts once, in its own month, by its latest outcome.
    select
        cohort_month_start as month_start,
        force_id,
        crime_type,
        count(*) as crime_count,
        count(*) filter (where latest_outcome_group = 'charged_or_summonsed') as charge_summons_count,
        count(*) filter (where latest_outcome_group = 'out_of_court') as out_of_court_count,
        count(*) filter (where latest_outcome_group = 'no_further_action') as no_further_action_count,
        count(*) filter (where latest_outcome_group = 'pending') as pending_count,
        count(*) filter (where latest_outcome_group = 'other') as other_outcome_count,
        count(*) filter (where latest_outcome_group is null) as no_outcome_count,
        sum(outcome_event_count) as outcome_event_count,
        count(*) filter (where outcome_event_count > 0) as crimes_with_outcome_event_count
    from crimes_to_count
    group by cohort_month_start, force_id, crime_type

),

with_rates as (

    select
        *,
        case
            when crime_count > 0 then charge_summons_count / crime_count
        end as charge_summons_rate,
        charge_summons_count + out_of_court_count as positive_outcome_count
    from cohort_counts

),

with_crime_type_flags as (

    select
        with_rates.*,
        crime_types.is_neighbourhood_crime
    from with_rates
    left join crime_types
        on with_rates.crime_type = crime_types.crime_type

),

final as (

    select
        {{ contract_columns() }}
    from with_crime_type_flags

)

select * from final
