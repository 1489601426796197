with

reserves as (

    select * from {{ ref('stg_finance__reserves') }}

),

plans as (

    select * from {{ ref('stg_finance__plans') }}

),

net_budgets as (

    select * from {{ ref('int_finance__net_revenue_budget') }}

),

year_totals as (

    select
        force_id,
        plan_first_year,
        financial_year,
        sum(closing_balance_gbp) as total_closing_reserves_gbp,
        sum(closing_balance_gbp) filter (where is_general_reserve) as general_closing_reserves_gbp
    from reserves
    group by force_id, plan_first_year, financial_year

),

joined as (

    select
        reserves.*,
        reserves.closing_balance_gbp - reserves.opening_balance_gbp as net_movement_gbp,
        year_totals.total_closing_reserves_gbp,
        year_totals.general_closing_reserves_gbp,
        net_budgets.net_revenue_budget_gbp,
        plans.is_latest_plan
    from reserves
    inner join plans
        on reserves.force_id = plans.force_id
        and reserves.plan_first_year = plans.plan_first_year
    inner join year_totals
        on reserves.force_id = year_totals.force_id
        and reserves.plan_first_year = year_totals.plan_first_year
        and reserves.financial_year = year_totals.financial_year
    left join net_budgets
        on reserves.force_id = net_budgets.force_id
        and reserves.plan_first_year = net_budgets.plan_first_year
        and reserves.financial_year = net_budgets.financial_year

),

final as (

    select
        cast(force_id as varchar) as force_id,
        cast(plan_first_year as varchar) as plan_first_year,
        cast(financial_year as varchar) as financial_year,
        cast(financial_year_start as integer) as financial_year_start,
        cast(reserve_name as varchar) as reserve_name,
        cast(reserve_type as varchar) as reserve_type,
        cast(is_general_reserve as boolean) as is_general_reserve,
        cast(opening_balance_gbp as decimal(18, 2)) as opening_balance_gbp,
        cast(contribution_gbp as decimal(18, 2)) as contribution_gbp,
        cast(use_gbp as decimal(18, 2)) as use_gbp,
        cast(closing_balance_gbp as decimal(18, 2)) as closing_balance_gbp,
        cast(net_movement_gbp as decimal(18, 2)) as net_movement_gbp,
        cast(total_closing_reserves_gbp as decimal(18, 2)) as total_closing_reserves_gbp,
        cast(net_revenue_budget_gbp as decimal(18, 2)) as net_revenue_budget_gbp,
        cast(general_closing_reserves_gbp / nullif(net_revenue_budget_gbp, 0) as double)
            as general_reserves_share_of_net_budget,
        cast(is_latest_plan as boolean) as is_latest_plan
    from joined

)

select * from final
