with

mid_year_estimates as (

    select * from {{ ref('stg_ons_population__mid_year_population') }}

),

census as (

    select * from {{ ref('stg_ons_population__census_ethnic_group') }}

),

census_ethnic_groups as (

    select * from {{ ref('census_ethnic_groups') }}

),

districts as (

    select * from {{ ref('int_geography__lad_csp_pfa') }}
    where is_latest_vintage_for_district

),

mye_districts as (

    -- only the lowest tier: counties, regions and countries are sums of these
    select * from mid_year_estimates
    where is_local_authority_district

),

single_year_totals as (

    select
        area_code,
        mid_year,
        sex,
        sum(population_count) as single_year_total
    from mye_districts
    where not is_all_ages
    group by all

),

mye_all_ages as (

    -- the published total, with the sum of its single years beside it (tested equal)
    select
        mye_districts.area_code,
        mye_districts.area_name,
        mye_districts.mid_year as population_year,
        mye_districts.sex,
        'all ages' as age_band,
        mye_districts.population_count,
        single_year_totals.single_year_total
    from mye_districts
    left join single_year_totals
        on {{ keys_match('mye_districts', 'single_year_totals', ['area_code', 'mid_year', 'sex']) }}
    where mye_districts.is_all_ages

),

mye_age_bands as (

    -- police.uk's stop and search age ranges, so searches per head can be computed by age
    select
        area_code,
        max(area_name) as area_name,
        mid_year as population_year,
        sex,
        case
            when age_years < 10 then 'under 10'
            when age_years < 18 then '10-17'
            when age_years < 25 then '18-24'
            when age_years < 35 then '25-34'
            else 'over 34'
        end as age_band,
        sum(population_count) as population_count,
        null::bigint as single_year_total
    from mye_districts
    where not is_all_ages
    group by all

),

mye_rows as (

    select
        *,
        'mid_year_estimate' as population_source,
        'all' as ethnic_group,
        null::varchar as census_label_level
    from (
        select * from mye_all_ages
        union all
        select * from mye_age_bands
    )

),

census_rows as (

    -- the total and the five broad groups; detailed groups stay in staging. An unknown label
    -- keeps a NULL level, which the tests catch (add it to seed census_ethnic_groups).
    select
        census.area_code,
        census.area_name,
        census.census_year as population_year,
        'persons' as sex,
        'all ages' as age_band,
        census.population_count,
        null::bigint as single_year_total,
        'census' as population_source,
        coalesce(census_ethnic_groups.ethnic_group, 'all') as ethnic_group,
        census_ethnic_groups.level as census_label_level
    from census
    left join census_ethnic_groups
        on census.census_year = census_ethnic_groups.census_year
        and census.ethnic_group_label = census_ethnic_groups.label
    where census_ethnic_groups.level is null or census_ethnic_groups.level in ('total', 'broad')

),

with_geography as (

    select
        rows.area_code as lad_code,
        rows.area_name as lad_name,
        rows.population_year,
        rows.population_source,
        rows.sex,
        rows.age_band,
        rows.ethnic_group,
        rows.population_count,
        rows.single_year_total,
        rows.census_label_level,
        districts.vintage as lookup_vintage,
        districts.csp_code,
        districts.pfa_code,
        districts.force_id
    from (
        select * from mye_rows
        union all
        select * from census_rows
    ) as rows
    left join districts
        on rows.area_code = districts.lad_code

)

select * from with_geography
