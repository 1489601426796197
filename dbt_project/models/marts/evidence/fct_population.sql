with

areas as (

    select * from {{ ref('int_population__areas') }}

),

with_total_flag as (

    select
        *,
        sex = 'persons' and age_band = 'all ages' and ethnic_group = 'all' as is_total_population
    from areas

),

final as (

    select
        {{ contract_columns() }}
    from with_total_flag

)

select * from final
