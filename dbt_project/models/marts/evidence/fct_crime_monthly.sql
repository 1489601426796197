-- Built month by month: an incremental run rebuilds only the months loaded since this model's
-- last build (macros/police_uk_incremental.sql), replacing them whole.
{{ police_uk_incremental_config(
    unique_key='month_start', test_scope='months_loaded', police_uk_staging='stg_police_uk__street_crimes'
) }}

with

street_crimes_to_count as (

    {{ police_uk_months_to_count('stg_police_uk__street_crimes') }}

),

crime_types as (

    select * from {{ ref('crime_types') }}

),

keyed as (

    -- Keep NULL out of the key: records with no LSOA share the literal code 'no-lsoa'.
    select
        force_id,
        month_start,
        coalesce(lsoa_code, 'no-lsoa') as lsoa_code,
        lsoa_name,
        crime_type
    from street_crimes_to_count

),

monthly_counts as (

    select
        month_start,
        force_id,
        lsoa_code,
        max(lsoa_name) as lsoa_name,
        crime_type,
        count(*) as crime_count
    from keyed
    group by month_start, force_id, lsoa_code, crime_type

),

with_crime_type_flags as (

    select
        monthly_counts.*,
        monthly_counts.lsoa_code <> 'no-lsoa' as has_lsoa,
        crime_types.is_neighbourhood_crime,
        crime_types.is_anti_social_behaviour
    from monthly_counts
    left join crime_types
        on monthly_counts.crime_type = crime_types.crime_type

),

final as (

    select
        cast(month_start as date) as month_start,
        cast(force_id as varchar) as force_id,
        cast(lsoa_code as varchar) as lsoa_code,
        cast(lsoa_name as varchar) as lsoa_name,
        cast(has_lsoa as boolean) as has_lsoa,
        cast(crime_type as varchar) as crime_type,
        cast(is_neighbourhood_crime as boolean) as is_neighbourhood_crime,
        cast(is_anti_social_behaviour as boolean) as is_anti_social_behaviour,
        cast(crime_count as bigint) as crime_count
    from with_crime_type_flags

)

select * from final
