-- Built month by month: an incremental run rebuilds only the months loaded since this model's
-- last build (macros/police_uk_incremental.sql), replacing them whole.
{{ police_uk_monthly_counts_config('stg_police_uk__street_crimes') }}

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

lsoas as (

    select * from {{ ref('int_geography__lsoa') }}

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

-- Ward, district and CSP on the row, so the common questions ("crimes by CSP", "hotspots in a
-- ward") are one-table queries. Taken from the lookup as it stood when the month was built.
with_areas as (

    select
        with_crime_type_flags.*,
        lsoas.ward_code,
        lsoas.ward_name,
        lsoas.lad_code as district_code,
        lsoas.lad_name as district_name,
        lsoas.csp_code,
        lsoas.csp_name
    from with_crime_type_flags
    left join lsoas
        on with_crime_type_flags.lsoa_code = lsoas.lsoa_code

),

final as (

    select
        {{ contract_columns() }}
    from with_areas

)

select * from final
