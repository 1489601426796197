-- One row per crime id named in any outcomes file: its outcome events summarised. A new outcomes
-- month is merged into the summaries of the crimes it names, so its cost does not grow with
-- history; a month consumed before (re-issued) has its crimes summarised again from every event
-- (macros/police_uk_crime_summaries.sql). Rows are replaced by `crime_key` bucket (see there).
{{ police_uk_incremental_config(
    unique_key='crime_key', test_scope='built_this_run',
    post_hook="{{ police_uk_delete_stale_summaries(ref('stg_police_uk__outcomes'), 'first_outcome_month_start', 'latest_outcome_event_month_start') }}"
) }}

{% if is_incremental() %}
    {% set changed_months = police_uk_changed_month_list(ref('stg_police_uk__outcomes')) %}
    {% set months_are_unseen = police_uk_months_are_unseen(changed_months, this, 'latest_outcome_event_month_start') %}
{% endif %}

-- outcome_events is `not materialized`: the rebuild path reads it twice, and DuckDB would
-- otherwise copy every event into a temporary result instead of pushing the filters into the scan.
with

outcome_events as not materialized (

    select * from {{ ref('stg_police_uk__outcomes') }}

),

outcome_categories as (

    select * from {{ ref('outcome_categories') }}

),

{% if is_incremental() %}

existing_summaries as not materialized (

    select * from {{ this }}

),

{% if months_are_unseen %}

events_to_summarise as (

    -- only the new months' events: merged with each crime's summary so far below
    select * from outcome_events
    where source_month in ({{ police_uk_month_literals(changed_months) }})
        and crime_id is not null

),

crimes_to_summarise as (

    select distinct crime_id from events_to_summarise

),

{% else %}

crimes_to_summarise as (

    -- crimes named in a reloaded month, and crimes whose events span one (it may have dropped them)
    select crime_id from outcome_events
    where source_month in ({{ police_uk_month_literals(changed_months) }})
        and crime_id is not null
    union
    {{ police_uk_summaries_spanning('existing_summaries', changed_months, 'first_outcome_month_start',
                                    'latest_outcome_event_month_start', ['crime_id']) }}

),

events_to_summarise as (

    select * from outcome_events
    where crime_id in (select crime_id from crimes_to_summarise)

),

{% endif %}

{% else %}

events_to_summarise as (

    select * from outcome_events
    where crime_id is not null

),

{% endif %}

events_ranked as (

    select
        outcome_events.crime_id,
        outcome_events.outcome_month_start,
        outcome_events.outcome_category,
        -- the latest month first; two events in that month: the one that got furthest
        {{ police_uk_rank_key("date_diff('month', outcome_events.outcome_month_start, date '2100-01-01')",
                              outcome_group_precedence('outcome_categories.outcome_group'),
                              ['outcome_events.outcome_category']) }} as event_rank
    from events_to_summarise as outcome_events
    left join outcome_categories
        on outcome_events.outcome_category = outcome_categories.outcome_category

),

summaries as (

    select
        {{ police_uk_crime_key('crime_id') }} as crime_key,
        crime_id,
        count(*) as outcome_event_count,
        min(outcome_month_start) as first_outcome_month_start,
        max(outcome_month_start) as latest_outcome_event_month_start,
        arg_min(outcome_category, event_rank) as latest_outcome_event_category,
        min(event_rank) as latest_event_rank
    from events_ranked
    group by crime_id

),

{% if is_incremental() %}

existing_in_touched_buckets as (

    -- the summaries already built in the buckets this run rewrites: looked up by key, not by id
    {{ police_uk_summaries_in_buckets(this, 'select ' ~ police_uk_crime_key('crime_id') ~ ' from crimes_to_summarise') }}

),

bucket_neighbours as (

    -- other crimes sharing a rewritten bucket: written back as they were
    select * from existing_in_touched_buckets
    where crime_id not in (select crime_id from crimes_to_summarise)

),

{% endif %}

{% if is_incremental() and months_are_unseen %}

merged as (

    -- The new events' summary merged with the crime's summary so far (NULL for a crime first
    -- named now). Exact because the new months' events were never counted before.
    select
        summaries.crime_key,
        summaries.crime_id,
        summaries.outcome_event_count + coalesce(existing.outcome_event_count, 0) as outcome_event_count,
        least(summaries.first_outcome_month_start, existing.first_outcome_month_start) as first_outcome_month_start,
        greatest(summaries.latest_outcome_event_month_start, existing.latest_outcome_event_month_start)
            as latest_outcome_event_month_start,
        case
            when existing.latest_event_rank < summaries.latest_event_rank then existing.latest_outcome_event_category
            else summaries.latest_outcome_event_category
        end as latest_outcome_event_category,
        least(summaries.latest_event_rank, existing.latest_event_rank) as latest_event_rank
    from summaries
    left join existing_in_touched_buckets as existing
        on summaries.crime_id = existing.crime_id

),

{% else %}

merged as (

    select * from summaries

),

{% endif %}

rebuilt as (

    select
        crime_key,
        crime_id,
        outcome_event_count,
        first_outcome_month_start,
        latest_outcome_event_month_start,
        latest_outcome_event_category,
        latest_event_rank,
        {{ police_uk_run_started_at() }} as built_at
    from merged

),

final as (

    select * from rebuilt
    {% if is_incremental() %}
    union all
    select * from bucket_neighbours
    {% endif %}

)

select * from final
