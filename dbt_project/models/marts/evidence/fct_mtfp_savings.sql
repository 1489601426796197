with

savings_plan as (

    select * from {{ ref('stg_finance__savings_plan') }}

),

plans as (

    select * from {{ ref('stg_finance__plans') }}

),

net_budgets as (

    select * from {{ ref('int_finance__net_revenue_budget') }}

),

with_gap as (

    select
        *,
        savings_required_gbp - savings_identified_gbp as savings_gap_gbp,
        row_number() over plan_years as plan_year_number,
        sum(savings_required_gbp) over plan_years as cumulative_savings_required_gbp,
        sum(savings_required_gbp - savings_identified_gbp) over plan_years as cumulative_savings_gap_gbp
    from savings_plan
    window plan_years as (
        partition by force_id, plan_first_year order by financial_year
        rows between unbounded preceding and current row
    )

),

joined as (

    select
        with_gap.*,
        net_budgets.net_revenue_budget_gbp,
        plans.is_latest_plan
    from with_gap
    inner join plans
        on with_gap.force_id = plans.force_id
        and with_gap.plan_first_year = plans.plan_first_year
    left join net_budgets
        on with_gap.force_id = net_budgets.force_id
        and with_gap.plan_first_year = net_budgets.plan_first_year
        and with_gap.financial_year = net_budgets.financial_year

),

final as (

    select
        cast(force_id as varchar) as force_id,
        cast(plan_first_year as varchar) as plan_first_year,
        cast(financial_year as varchar) as financial_year,
        cast(financial_year_start as integer) as financial_year_start,
        cast(plan_year_number as integer) as plan_year_number,
        cast(savings_required_gbp as decimal(18, 2)) as savings_required_gbp,
        cast(savings_identified_gbp as decimal(18, 2)) as savings_identified_gbp,
        cast(savings_delivered_gbp as decimal(18, 2)) as savings_delivered_gbp,
        cast(savings_gap_gbp as decimal(18, 2)) as savings_gap_gbp,
        cast(savings_identified_gbp / nullif(savings_required_gbp, 0) as double) as savings_identified_share,
        cast(cumulative_savings_required_gbp as decimal(18, 2)) as cumulative_savings_required_gbp,
        cast(cumulative_savings_gap_gbp as decimal(18, 2)) as cumulative_savings_gap_gbp,
        cast(net_revenue_budget_gbp as decimal(18, 2)) as net_revenue_budget_gbp,
        cast(savings_required_gbp / nullif(net_revenue_budget_gbp, 0) as double) as savings_required_share_of_net_budget,
        cast(is_latest_plan as boolean) as is_latest_plan
    from joined

)

select * from final
