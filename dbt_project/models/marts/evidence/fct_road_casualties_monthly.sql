with

monthly as (

    select * from {{ ref('stg_road_safety__monthly') }}

),

with_totals as (

    select
        *,
        killed_count + seriously_injured_count as killed_or_seriously_injured_count,
        -- the DfT severity-adjusted series, where the return gives it
        killed_count + seriously_injured_adjusted_estimate as killed_or_seriously_injured_adjusted_estimate,
        coalesce(regexp_matches(lower(stats19_release), 'provisional'), false) as is_provisional
    from monthly

),

final as (

    select
        {{ contract_columns() }}
    from with_totals

)

select * from final
