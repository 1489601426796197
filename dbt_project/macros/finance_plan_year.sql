{#-
    The context every finance mart states its figures in, joined once here: each row of `relation`
    (keyed by `force_id`, `plan_first_year`, `financial_year`) with

      * `is_latest_plan` of its plan (stg_finance__plans; a row of a plan not listed there is
        dropped), and
      * the year's `gross_expenditure_gbp` and `net_revenue_budget_gbp` in that plan
        (int_finance__net_revenue_budget; null for a year with no budget lines),

    so a share of the net budget is computed from the same figure in fct_budget, fct_funding,
    fct_reserves and fct_mtfp_savings. Used as the body of a CTE: `with_plan_year as ({{ ... }})`.
-#}
{% macro finance_with_plan_year(relation) %}
    select
        {{ relation }}.*,
        net_budgets.gross_expenditure_gbp,
        net_budgets.net_revenue_budget_gbp,
        plans.is_latest_plan
    from {{ relation }}
    inner join {{ ref('stg_finance__plans') }} as plans
        on {{ relation }}.force_id = plans.force_id
        and {{ relation }}.plan_first_year = plans.plan_first_year
    left join {{ ref('int_finance__net_revenue_budget') }} as net_budgets
        on {{ relation }}.force_id = net_budgets.force_id
        and {{ relation }}.plan_first_year = net_budgets.plan_first_year
        and {{ relation }}.financial_year = net_budgets.financial_year
{% endmacro %}



{#- The plan-year key as the finance templates carry it (stg_finance__*): the force, the first year
    of the plan the figures come from, and the financial year they are for (April to March). -#}
{% macro finance_plan_year_columns() -%}
        _force_id as force_id,
        _plan_year as plan_first_year,
        financial_year,
        cast(left(financial_year, 4) as integer) as financial_year_start
{%- endmacro %}


{#-
    Each line of a plan's revenue budget (stg_finance__revenue_budget) with its `line_group`,
    `is_income` and `sort_order` (seeds/finance_budget_lines) and `net_amount_gbp`, the amount as
    it counts towards the net budget: income is entered positive and reduces it. fct_budget
    publishes these lines and int_finance__net_revenue_budget sums them, so both sign a line
    alike. Used as the body of a CTE: `budget_lines as ({{ ... }})`.
-#}
{% macro finance_signed_budget_lines() %}
    select
        revenue_budget.*,
        budget_lines.line_group,
        budget_lines.is_income,
        budget_lines.sort_order,
        case when budget_lines.is_income then -revenue_budget.amount_gbp else revenue_budget.amount_gbp end
            as net_amount_gbp
    from {{ ref('stg_finance__revenue_budget') }} as revenue_budget
    inner join {{ ref('finance_budget_lines') }} as budget_lines
        on revenue_budget.budget_line = budget_lines.budget_line
{% endmacro %}
