with

street_crimes as (

    select * from {{ ref('stg_police_uk__street_crimes') }}

),

outcome_categories as (

    select * from {{ ref('outcome_categories') }}

),

crimes_with_outcome_group as (

    select
        street_crimes.*,
        outcome_categories.outcome_group as last_outcome_group,
        outcome_categories.is_charge_or_summons as is_last_outcome_charge_or_summons,
        outcome_categories.is_resolved as is_last_outcome_resolved
    from street_crimes
    left join outcome_categories
        on street_crimes.last_outcome_category = outcome_categories.outcome_category

)

select * from crimes_with_outcome_group
