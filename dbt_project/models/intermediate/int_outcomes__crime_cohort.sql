-- One row per crime, kept up to date crime by crime: an incremental run rewrites only the crimes
-- whose street rows were loaded since this model's last build (a new month's crimes) or whose
-- outcome-event summary int_outcomes__events_per_crime rebuilt since (the older crimes a new
-- outcomes file updates), however far back their cohort month is. For a street month never seen
-- before, each crime's street summary is merged with its new rows and everything else is taken
-- from the rows already built, found by 64-bit key: a new month reads its own rows and the
-- compact per-crime tables, not the street rows or outcome events of history
-- (macros/police_uk_crime_summaries.sql). Rows are replaced by `crime_key` bucket.
{{ police_uk_incremental_config(
    unique_key='crime_key', test_scope='built_this_run',
    post_hook="{{ police_uk_delete_stale_summaries(ref('int_crime__street_crimes_with_outcome_group'), 'cohort_month_start', 'last_street_month_start') }}"
) }}

-- The months loaded since this model's last build are looked up in the street rows it reads and,
-- for outcomes, in the staging view (DuckDB pushes the filter through both views into the raw scan).
-- depends_on: {{ ref('stg_police_uk__outcomes') }}

{% if is_incremental() %}
    {% set changed_street_months = police_uk_changed_month_list(ref('int_crime__street_crimes_with_outcome_group')) %}
    {% set street_months_are_unseen = police_uk_months_are_unseen(changed_street_months, this, 'last_street_month_start') %}
    {% set changed_outcome_months = police_uk_changed_month_list(ref('stg_police_uk__outcomes')) %}
    {% set outcome_months_are_unseen = police_uk_months_are_unseen(changed_outcome_months, this, 'latest_outcome_event_month_start') %}
{% endif %}

-- Import CTEs are `not materialized`: the incremental branch reads them more than once, and
-- DuckDB would otherwise copy every row of history into a temporary result instead of pushing
-- each reader's filters (months, keys) into the scan.
with

street_crimes as not materialized (

    select * from {{ ref('int_crime__street_crimes_with_outcome_group') }}

),

events_per_crime as not materialized (

    select * from {{ ref('int_outcomes__events_per_crime') }}

),

outcome_categories as (

    select * from {{ ref('outcome_categories') }}

),

{% if is_incremental() %}

existing_cohort as not materialized (

    select * from {{ this }}

),

{% if street_months_are_unseen %}

street_rows_to_summarise as (

    -- only the new months' rows: merged with each crime's street summary so far below
    select * from street_crimes
    where source_month in ({{ police_uk_month_literals(changed_street_months) }})

),

{% else %}

crimes_to_resummarise as (

    -- crimes in a reloaded street month, and crimes whose rows span one (it may have dropped them)
    select crime_id from street_crimes
    where source_month in ({{ police_uk_month_literals(changed_street_months) }}) and crime_id is not null
    union
    {{ police_uk_summaries_spanning('existing_cohort', changed_street_months,
                                    'cohort_month_start', 'last_street_month_start', ['crime_id']) }}

),

street_rows_to_summarise as (

    select * from street_crimes
    where crime_id in (select crime_id from crimes_to_resummarise)

),

{% endif %}

{% else %}

street_rows_to_summarise as (

    select * from street_crimes

),

{% endif %}

crimes_that_can_have_outcomes as (

    -- Anti-social behaviour has no outcomes; British Transport Police publishes no crime
    -- ids and no outcomes, so its crimes cannot join to an outcome either.
    select * from street_rows_to_summarise
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

street_summaries as (

    -- One row per crime id: the fields of its first-ranked copy. One hash aggregate with
    -- arg_min on a number, far cheaper than numbering every crime's rows with a window.
    -- arg_min_null: plain arg_min skips the copies whose field is NULL, so a crime whose first
    -- copy has no location took another copy's, unlike the incremental merge below.
    select
        {{ police_uk_crime_key('crime_id') }} as crime_key,
        crime_id,
        arg_min_null(force_id, copy_rank) as force_id,
        min(month_start) as cohort_month_start,
        max(month_start) as last_street_month_start,
        arg_min_null(crime_type, copy_rank) as crime_type,
        arg_min_null(lsoa_code, copy_rank) as lsoa_code,
        arg_min_null(last_outcome_category, copy_rank) as street_last_outcome_category,
        count(*) as street_record_count,
        min(copy_rank) as street_copy_rank
    from street_rows_ranked
    group by crime_id

),

{% if is_incremental() %}

crimes_with_new_events as (

    -- crimes whose event summary was rebuilt since this model last built
    select crime_key, crime_id from events_per_crime
    where built_at > {{ police_uk_last_built_at() }}
    {% if not outcome_months_are_unseen %}
    union
    -- a reloaded outcomes month may have taken a crime's last events away (its summary is gone)
    {{ police_uk_summaries_spanning('existing_cohort', changed_outcome_months, 'first_outcome_month_start',
                                    'latest_outcome_event_month_start', ['crime_key', 'crime_id']) }}
    {% endif %}

),

crimes_with_new_street_rows as (

    {% if street_months_are_unseen %}
    select crime_key, crime_id from street_summaries
    {% else %}
    select {{ police_uk_crime_key('crime_id') }} as crime_key, crime_id from crimes_to_resummarise
    {% endif %}

),

touched_buckets as (

    select crime_key from crimes_with_new_street_rows
    union
    select crime_key from crimes_with_new_events

),

existing_in_touched_buckets as (

    -- the rows already built in the buckets this run rewrites: looked up by key, not by id
    {{ police_uk_summaries_in_buckets(this, 'select crime_key from touched_buckets') }}

),

{% if street_months_are_unseen %}

street_summaries_merged as (

    -- The new rows' summary merged with the crime's street summary so far (NULL for a crime
    -- first published now). Exact because the new months' rows were never counted before.
    select
        new.crime_key,
        new.crime_id,
        case when existing.street_copy_rank < new.street_copy_rank then existing.force_id else new.force_id end
            as force_id,
        least(new.cohort_month_start, existing.cohort_month_start) as cohort_month_start,
        greatest(new.last_street_month_start, existing.last_street_month_start) as last_street_month_start,
        case when existing.street_copy_rank < new.street_copy_rank then existing.crime_type else new.crime_type end
            as crime_type,
        case when existing.street_copy_rank < new.street_copy_rank then existing.lsoa_code else new.lsoa_code end
            as lsoa_code,
        case
            when existing.street_copy_rank < new.street_copy_rank then existing.street_last_outcome_category
            else new.street_last_outcome_category
        end as street_last_outcome_category,
        new.street_record_count + coalesce(existing.street_record_count, 0) as street_record_count,
        least(new.street_copy_rank, existing.street_copy_rank) as street_copy_rank
    from street_summaries as new
    left join existing_in_touched_buckets as existing
        on new.crime_id = existing.crime_id

),

{% else %}

street_summaries_merged as (

    select * from street_summaries

),

{% endif %}

unchanged_street_summaries as (

    -- the street part of every other crime in a rewritten bucket (most: crimes that only have
    -- new events), as already built; a crime resummarised above that has no rows left is gone
    select
        crime_key, crime_id, force_id, cohort_month_start, last_street_month_start, crime_type, lsoa_code,
        street_last_outcome_category, street_record_count, street_copy_rank
    from existing_in_touched_buckets
    where not exists (
        select 1 from crimes_with_new_street_rows
        where crimes_with_new_street_rows.crime_id = existing_in_touched_buckets.crime_id
    )

),

crimes as (

    select * from street_summaries_merged
    union all
    select * from unchanged_street_summaries

),

events_of_touched_buckets as (

    {{ police_uk_summaries_in_buckets(ref('int_outcomes__events_per_crime'), 'select crime_key from touched_buckets') }}

),

{% else %}

crimes as (

    select * from street_summaries

),

events_of_touched_buckets as (

    select * from events_per_crime

),

{% endif %}

crimes_with_events as (

    -- Events whose crime is not in a loaded street file (crimes before the loaded
    -- window) drop out here: a cohort only holds crimes we can count.
    select
        crimes.*,
        coalesce(events.outcome_event_count, 0) as outcome_event_count,
        events.first_outcome_month_start,
        events.latest_outcome_event_month_start,
        events.latest_outcome_event_category
    from crimes
    left join events_of_touched_buckets as events
        on crimes.crime_id = events.crime_id

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
