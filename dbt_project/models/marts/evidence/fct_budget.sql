with

with_line as (

    -- each budget line with its group, income signed negative (macros/finance_plan_year.sql)
    {{ finance_signed_budget_lines() }}

),

with_plan_year as (

    -- the plan's is_latest_plan and the year's totals (macros/finance_plan_year.sql); every line
    -- is in its year's totals, which are summed from the same lines
    {{ finance_with_plan_year('with_line') }}

),

with_totals as (

    select
        *,
        case
            when not is_income and gross_expenditure_gbp > 0 then amount_gbp / gross_expenditure_gbp
        end as share_of_gross_expenditure
    from with_plan_year

),

with_line_order as (

    select
        *,
        sort_order as line_sort_order
    from with_totals

),

final as (

    select
        {{ contract_columns() }}
    from with_line_order

)

select * from final
