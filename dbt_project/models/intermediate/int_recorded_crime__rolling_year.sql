-- The Home Office force-level rolling-year table as force ids and quarter ends: the newest load of
-- each point (the publisher revises earlier years in each edition), territorial force areas only,
-- the annual points before June 2007 left out.
with

rolling_year as (

    select * from {{ ref('stg_home_office_prc__pfa_rolling_year') }}

),

force_names as (

    select * from {{ ref('home_office_force_names') }}

),

newest_points as (

    select *
    from rolling_year
    where is_territorial and not is_annual_point
    qualify row_number() over (
        partition by period_end_date, pfa_name_key, offence order by loaded_at desc, edition desc) = 1

),

-- several spellings of one force share a key ('Devon & Cornwall', 'Devon and Cornwall')
force_keys as (

    select distinct {{ name_key('published_name') }} as name_key, force_id
    from force_names

),

with_force_id as (

    select
        force_keys.force_id,
        newest_points.period_end_date,
        newest_points.offence,
        newest_points.rolling_year_offence_count,
        newest_points.edition,
        newest_points.source_file
    from newest_points
    inner join force_keys
        on force_keys.name_key = newest_points.pfa_name_key

)

select * from with_force_id
