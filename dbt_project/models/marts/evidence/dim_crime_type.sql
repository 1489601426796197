with

crime_types as (

    select * from {{ ref('crime_types') }}

),

final as (

    select
        cast(crime_type as varchar) as crime_type,
        cast(crime_type_group as varchar) as crime_type_group,
        cast(is_neighbourhood_crime as boolean) as is_neighbourhood_crime,
        cast(is_anti_social_behaviour as boolean) as is_anti_social_behaviour,
        cast(is_current as boolean) as is_current,
        cast(description as varchar) as description
    from crime_types

)

select * from final
