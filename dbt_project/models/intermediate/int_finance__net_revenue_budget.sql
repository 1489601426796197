-- One row per force, plan and financial year: the year's gross expenditure and net revenue
-- budget from the plan's budget lines. Every finance mart that states a figure as a share of
-- the net budget joins here, so the net budget is computed once.
with

signed as (

    -- each budget line, income signed negative (macros/finance_plan_year.sql)
    {{ finance_signed_budget_lines() }}

)

select
    force_id,
    plan_first_year,
    financial_year,
    sum(amount_gbp) filter (where not is_income) as gross_expenditure_gbp,
    sum(net_amount_gbp) as net_revenue_budget_gbp
from signed
group by force_id, plan_first_year, financial_year
