with

grants as (

    select * from {{ ref('stg_finance__crime_reduction_grants') }}

),

plans as (

    select * from {{ ref('stg_finance__plans') }}

),

year_totals as (

    select
        force_id,
        plan_first_year,
        financial_year,
        sum(amount_gbp) as year_total_gbp
    from grants
    group by force_id, plan_first_year, financial_year

),

joined as (

    select
        grants.*,
        year_totals.year_total_gbp,
        plans.is_latest_plan
    from grants
    inner join plans
        on {{ keys_match('grants', 'plans', ['force_id', 'plan_first_year']) }}
    inner join year_totals
        on {{ keys_match('grants', 'year_totals', ['force_id', 'plan_first_year', 'financial_year']) }}

),

final as (

    select
        cast(grant_id as varchar) as grant_id,
        cast(force_id as varchar) as force_id,
        cast(plan_first_year as varchar) as plan_first_year,
        cast(financial_year as varchar) as financial_year,
        cast(financial_year_start as integer) as financial_year_start,
        cast(recipient as varchar) as recipient,
        cast(recipient_type as varchar) as recipient_type,
        cast(csp_name as varchar) as csp_name,
        cast(purpose as varchar) as purpose,
        cast(amount_gbp as decimal(18, 2)) as amount_gbp,
        cast(amount_gbp / nullif(year_total_gbp, 0) as double) as share_of_year_total,
        cast(year_total_gbp as decimal(18, 2)) as year_total_gbp,
        cast(conditions as varchar) as conditions,
        cast(outcome as varchar) as outcome,
        cast(outcome is not null as boolean) as has_outcome,
        cast(awarded_on as date) as awarded_on,
        cast(is_latest_plan as boolean) as is_latest_plan,
        cast(source_file as varchar) as source_file,
        cast(source_row as integer) as source_row
    from joined

)

select * from final
