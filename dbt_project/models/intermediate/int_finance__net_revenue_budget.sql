-- One row per force, plan and financial year: the year's gross expenditure and net revenue
-- budget from the plan's budget lines. Every finance mart that states a figure as a share of
-- the net budget joins here, so the net budget is computed once.
with

revenue_budget as (

    select * from {{ ref('stg_finance__revenue_budget') }}

),

budget_lines as (

    select * from {{ ref('finance_budget_lines') }}

),

signed as (

    select
        revenue_budget.force_id,
        revenue_budget.plan_first_year,
        revenue_budget.financial_year,
        revenue_budget.amount_gbp,
        budget_lines.is_income,
        -- Income is entered positive: it reduces the net budget.
        case when budget_lines.is_income then -revenue_budget.amount_gbp else revenue_budget.amount_gbp end
            as net_amount_gbp
    from revenue_budget
    inner join budget_lines
        on revenue_budget.budget_line = budget_lines.budget_line

)

select
    force_id,
    plan_first_year,
    financial_year,
    sum(amount_gbp) filter (where not is_income) as gross_expenditure_gbp,
    sum(net_amount_gbp) as net_revenue_budget_gbp
from signed
group by force_id, plan_first_year, financial_year
