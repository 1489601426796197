-- The population each district's respondents are weighted to, one margin per weighting variable.
-- Age is of residents aged 16 and over (the consultation's population) from the newest mid-year
-- estimate; sex, ethnic group and disability are shares of ALL usual residents from Census 2021
-- (TS008, TS021, TS038 by local authority are not published for ages 16+). Raking uses shares
-- within each variable, so the approximation is that adults' sex, ethnic and disability mix is
-- that of all residents: adults are a little more often female and disabled and a little less
-- often from an ethnic minority than all residents.

with

mid_year_estimates as (

    select * from {{ ref('stg_ons_population__mid_year_population') }}

),

census_sex as (

    select * from {{ ref('stg_ons_population__census_sex') }}

),

census_ethnic_group as (

    select * from {{ ref('stg_ons_population__census_ethnic_group') }}

),

census_disability as (

    select * from {{ ref('stg_ons_population__census_disability') }}

),

census_ethnic_groups as (

    select * from {{ ref('census_ethnic_groups') }}

),

districts as (

    select * from {{ ref('int_geography__lad_csp_pfa') }}
    where is_latest_vintage_for_district and force_id is not null

),

newest_mid_year as (

    select area_code, max(mid_year) as mid_year
    from mid_year_estimates
    where is_local_authority_district and sex = 'persons'
    group by area_code

),

age_margins as (

    select
        mid_year_estimates.area_code as lad_code,
        'age_band' as variable,
        case
            when mid_year_estimates.age_years <= 34 then '16-34'
            when mid_year_estimates.age_years <= 54 then '35-54'
            when mid_year_estimates.age_years <= 64 then '55-64'
            else '65+'
        end as category,
        sum(mid_year_estimates.population_count) as population_count,
        'ONS mid-year estimate mid-' || mid_year_estimates.mid_year || ', residents aged 16+' as margin_source
    from mid_year_estimates
    inner join newest_mid_year
        on {{ keys_match('newest_mid_year', 'mid_year_estimates', ['area_code', 'mid_year']) }}
    where mid_year_estimates.is_local_authority_district
        and mid_year_estimates.sex = 'persons'
        and not mid_year_estimates.is_all_ages
        and mid_year_estimates.age_years >= 16
    group by all

),

sex_margins as (

    {{ census_margin('census_sex', 'sex', "case when sex_label in ('Female', 'Male') then sex_label end", 'TS008') }}

),

newest_census_ethnic_group as (

    {{ newest_census_rows('census_ethnic_group') }}

),

ethnic_margins as (

    select
        newest_census_ethnic_group.area_code as lad_code,
        'ethnic_group' as variable,
        case when census_ethnic_groups.ethnic_group = 'White' then 'White' else 'Ethnic minority' end as category,
        sum(newest_census_ethnic_group.population_count) as population_count,
        'Census ' || newest_census_ethnic_group.census_year || ' ethnic group, all usual residents' as margin_source
    from newest_census_ethnic_group
    inner join census_ethnic_groups
        on census_ethnic_groups.census_year = newest_census_ethnic_group.census_year
        and census_ethnic_groups.label = newest_census_ethnic_group.ethnic_group_label
        and census_ethnic_groups.level = 'broad'
    group by all

),

disability_margins as (

    {{ census_margin('census_disability', 'disability', "case disability_label
            when 'Disabled under the Equality Act' then 'Disabled'
            when 'Not disabled under the Equality Act' then 'Not disabled'
        end", 'TS038') }}

),

all_margins as (

    select * from age_margins
    union all
    select * from sex_margins
    union all
    select * from ethnic_margins
    union all
    select * from disability_margins

),

force_area_margins as (

    select
        districts.force_id,
        all_margins.lad_code,
        districts.lad_name,
        all_margins.variable,
        all_margins.category,
        all_margins.population_count,
        all_margins.population_count
            / sum(all_margins.population_count) over (partition by all_margins.lad_code, all_margins.variable)
            as population_share,
        all_margins.margin_source
    from all_margins
    inner join districts
        on districts.lad_code = all_margins.lad_code

)

select * from force_area_margins
