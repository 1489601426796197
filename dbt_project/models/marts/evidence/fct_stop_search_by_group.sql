-- Stop and search by the protected characteristics police.uk records (sex, age range, self-defined
-- ethnic group) over the 12 months to each quarter end: searches, searches per 1,000 residents of
-- the group with a 95% interval, and the share ending in arrest with its Wilson interval.
-- stop_searches is `not materialized`: read five times, each with its own few columns, rather than
-- every search of history copied whole into a temporary result first.
with

stop_searches as not materialized (

    select * from {{ ref('stg_police_uk__stop_searches') }}

),

population as (

    select * from {{ ref('int_population__areas') }}

),

-- each search once per characteristic; an empty field is "Not recorded" (never dropped)
in_groups as (

    select force_id, month_start, 'all' as characteristic, 'All searches' as group_value, is_arrest
    from stop_searches
    union all
    select force_id, month_start, 'sex', coalesce(gender, 'Not recorded'), is_arrest from stop_searches
    union all
    select force_id, month_start, 'age_range', coalesce(age_range, 'Not recorded'), is_arrest from stop_searches
    union all
    select force_id, month_start, 'ethnic_group', ethnic_group, is_arrest from stop_searches

),

-- the months with the force's searches, and the quarter ends with all 12 months before them
force_months as (

    select distinct force_id, month_start from stop_searches

),

windows as (

    {{ quarter_end_windows('force_months', ['force_id']) }}

),

window_counts as (

    select
        windows.force_id,
        windows.window_end_month,
        in_groups.characteristic,
        in_groups.group_value,
        count(*) as search_count,
        count(*) filter (where in_groups.is_arrest) as arrest_count
    from windows
    inner join in_groups
        on in_groups.force_id = windows.force_id
        and {{ in_twelve_months_to('in_groups.month_start', 'windows.window_end_month') }}
    group by all

),

-- the residents of each group: mid-year estimates by sex and by police.uk's age ranges, the census
-- by ethnic group; the year nearest the window's end
group_population as (

    select
        window_counts.force_id,
        window_counts.window_end_month,
        window_counts.characteristic,
        window_counts.group_value,
        population.population_count,
        population.population_year,
        {{ nearest_year_rank('population.population_year', 'year(window_counts.window_end_month)', [
            'window_counts.force_id', 'window_counts.window_end_month', 'window_counts.characteristic',
            'window_counts.group_value'
        ]) }} as preference
    from window_counts
    inner join population
        on population.area_type = 'police_force_area'
        and population.force_id = window_counts.force_id
        and (
            (window_counts.characteristic = 'all' and population.population_source = 'mid_year_estimate'
                and population.sex = 'persons' and population.age_band = 'all ages')
            or (window_counts.characteristic = 'sex' and population.population_source = 'mid_year_estimate'
                and population.sex = lower(window_counts.group_value) and population.age_band = 'all ages')
            or (window_counts.characteristic = 'age_range' and population.population_source = 'mid_year_estimate'
                and population.sex = 'persons' and population.age_band = window_counts.group_value)
            or (window_counts.characteristic = 'ethnic_group' and population.population_source = 'census'
                and population.ethnic_group = window_counts.group_value)
        )

),

with_rates as (

    select
        window_counts.*,
        all_searches.search_count as force_search_count,
        group_population.population_count,
        group_population.population_year
    from window_counts
    inner join window_counts as all_searches
        on all_searches.force_id = window_counts.force_id
        and all_searches.window_end_month = window_counts.window_end_month
        and all_searches.characteristic = 'all'
    left join group_population
        on group_population.force_id = window_counts.force_id
        and group_population.window_end_month = window_counts.window_end_month
        and group_population.characteristic = window_counts.characteristic
        and group_population.group_value = window_counts.group_value
        and group_population.preference = 1

),

with_rates_and_flags as (

    select
        *,
        {{ quarter_label('window_end_month') }} as period_label,
        -- dates: the 12 months
        window_end_month - interval 11 month as period_start_date,
        last_day(window_end_month) as period_end_date,
        search_count / force_search_count as share_of_searches,
        1000.0 * search_count / nullif(population_count, 0) as searches_per_1000,
        1000.0 * {{ poisson_lower('search_count') }} / nullif(population_count, 0) as searches_per_1000_lower_95,
        1000.0 * {{ poisson_upper('search_count') }} / nullif(population_count, 0) as searches_per_1000_upper_95,
        arrest_count / search_count as arrest_share,
        {{ wilson_lower('arrest_count', 'search_count') }} as arrest_share_lower_95,
        {{ wilson_upper('arrest_count', 'search_count') }} as arrest_share_upper_95,
        -- flag (shown with its warning, never hidden)
        search_count < {{ var('consultation_min_group_respondents') }} as is_small_group
    from with_rates

),

final as (

    select
        {{ contract_columns() }}
    from with_rates_and_flags

)

select * from final
