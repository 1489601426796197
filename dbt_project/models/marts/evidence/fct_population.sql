with

areas as (

    select * from {{ ref('int_population__areas') }}

),

final as (

    select
        cast(area_type as varchar) as area_type,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(pfa_code as varchar) as pfa_code,
        cast(force_id as varchar) as force_id,
        cast(population_year as integer) as population_year,
        cast(population_source as varchar) as population_source,
        cast(sex as varchar) as sex,
        cast(age_band as varchar) as age_band,
        cast(ethnic_group as varchar) as ethnic_group,
        cast(population_count as bigint) as population_count,
        cast(district_count as bigint) as district_count,
        cast(sex = 'persons' and age_band = 'all ages' and ethnic_group = 'all' as boolean) as is_total_population
    from areas

)

select * from final
