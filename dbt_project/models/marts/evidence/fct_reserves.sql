with

reserves as (

    select * from {{ ref('stg_finance__reserves') }}

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

with_plan_year as (

    -- the plan's is_latest_plan and the year's net revenue budget (macros/finance_plan_year.sql)
    {{ finance_with_plan_year('reserves') }}

),

joined as (

    select
        with_plan_year.*,
        with_plan_year.closing_balance_gbp - with_plan_year.opening_balance_gbp as net_movement_gbp,
        year_totals.total_closing_reserves_gbp,
        year_totals.general_closing_reserves_gbp
    from with_plan_year
    inner join year_totals
        on {{ keys_match('with_plan_year', 'year_totals', [
            'force_id', 'plan_first_year', 'financial_year'
        ]) }}

),

final as (

    select
        {{ finance_plan_year_key_columns() }},
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
