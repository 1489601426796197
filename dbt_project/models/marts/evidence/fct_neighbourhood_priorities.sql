with

priorities as (

    select * from {{ ref('stg_police_uk_api__neighbourhood_priorities') }}

),

neighbourhoods as (

    select * from {{ ref('stg_police_uk_api__neighbourhoods') }}

),

priorities_with_neighbourhood as (

    select
        priorities.*,
        neighbourhoods.neighbourhood_name
    from priorities
    left join neighbourhoods
        on priorities.neighbourhood_key = neighbourhoods.neighbourhood_key

),

with_theme as (

    -- A theme from keywords of the issue, to compare neighbourhoods' concerns with the plan's
    -- priorities. The first rule that matches wins, in this order: "drug-related anti-social
    -- behaviour" is anti-social behaviour.
    select
        *,
        case
            when issue_text ilike '%anti-social%' or issue_text ilike '%antisocial%'
                or issue_text ilike '%anti social%' or regexp_matches(issue_text, '\bASB\b')
                then 'Anti-social behaviour'
            when issue_text ilike '%drug%' or issue_text ilike '%cannabis%' or issue_text ilike '%county lines%'
                then 'Drugs'
            when issue_text ilike '%speed%' or issue_text ilike '%parking%' or issue_text ilike '%driving%'
                or issue_text ilike '%road safety%' or issue_text ilike '%off-road%'
                then 'Road safety'
            when issue_text ilike '%burglar%'
                then 'Burglary'
            when issue_text ilike '%vehicle%' or issue_text ilike '%car crime%'
                then 'Vehicle crime'
            when issue_text ilike '%shoplift%' or issue_text ilike '%retail%'
                then 'Shoplifting and retail crime'
            when issue_text ilike '%violen%' or issue_text ilike '%knife%' or issue_text ilike '%weapon%'
                then 'Violence and weapons'
            when issue_text ilike '%criminal damage%' or issue_text ilike '%graffiti%' or issue_text ilike '%arson%'
                then 'Criminal damage'
            else 'Other'
        end as priority_theme
    from priorities_with_neighbourhood

),

with_days_to_action as (

    select
        *,
        case when has_action then actioned_on - issued_on end as days_to_action
    from with_theme

),

final as (

    select
        {{ contract_columns() }}
    from with_days_to_action

)

select * from final
