with

monthly as (

    select * from {{ ref('int_victim_satisfaction__monthly') }}

),

with_shares as (

    select
        *,
        {{ victim_survey_shares() }}
    from monthly

)

select
    -- ids
    force_id,
    victim_group,
    -- dates
    month_start,
    -- interviews
    respondent_count,
    satisfied_respondent_count,
    -- weighted totals (add across months; the scorecard's proportion sums them)
    weight_sum,
    weight_squared_sum,
    satisfied_weight_sum,
    -- the month's share, with a 95% Wilson interval on the effective sample size
    weighted_share_satisfied,
    {{ weighted_share_ci_lower('weighted_share_satisfied', 'effective_sample_size') }} as ci_lower_95,
    {{ weighted_share_ci_upper('weighted_share_satisfied', 'effective_sample_size') }} as ci_upper_95,
    effective_sample_size,
    -- flags (a small group is shown with its warning, not hidden)
    respondent_count < {{ var('consultation_min_group_respondents') }} as is_small_group,
    effective_sample_size < {{ var('consultation_min_effective_sample_size') }} as is_low_effective_sample
from with_shares
