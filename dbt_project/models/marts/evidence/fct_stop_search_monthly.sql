-- Built month by month: an incremental run rebuilds only the months loaded since this model's
-- last build (macros/police_uk_incremental.sql), replacing them whole.
{{ police_uk_monthly_counts_config('stg_police_uk__stop_searches') }}

with

stop_searches_to_count as (

    {{ police_uk_months_to_count('stg_police_uk__stop_searches') }}

),

keyed as (

    -- Keep NULL out of the key: an unrecorded power or outcome is 'Not recorded'.
    select
        month_start,
        force_id,
        ethnic_group,
        coalesce(legislation, 'Not recorded') as legislation,
        coalesce(outcome, 'Not recorded') as outcome,
        is_person_searched,
        is_arrest,
        is_outcome_linked_to_object,
        is_more_than_outer_clothing_removed
    from stop_searches_to_count

),

monthly_counts as (

    select
        month_start,
        force_id,
        ethnic_group,
        legislation,
        outcome,
        count(*) as search_count,
        count(*) filter (where is_person_searched) as person_search_count,
        count(*) filter (where is_arrest) as arrest_count,
        count(*) filter (where is_outcome_linked_to_object) as find_count,
        count(is_outcome_linked_to_object) as find_recorded_count,
        count(*) filter (where is_more_than_outer_clothing_removed) as more_than_outer_clothing_removed_count
    from keyed
    group by month_start, force_id, ethnic_group, legislation, outcome

),

final as (

    select
        {{ contract_columns() }}
    from monthly_counts

)

select * from final
