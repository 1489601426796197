{%- set z = 1.959963984540054 -%}  {#- two-sided 95%: the standard normal's 97.5th percentile #}

with

respondent_groups as (

    select * from {{ ref('int_consultation__respondent_groups') }}

),

respondent_areas as (

    -- districts use the raking weight; the force area the expansion weight (districts in
    -- proportion to their residents aged 16+)
    select
        survey_id, force_id, 'district' as area_type, lad_code as area_code, lad_name as area_name,
        group_variable, group_value, weight as analysis_weight, confidence_answer, is_confident, is_not_confident
    from respondent_groups
    union all
    select
        survey_id, force_id, 'force_area' as area_type, force_id as area_code,
        coalesce(force_name, force_id) as area_name,
        group_variable, group_value, expansion_weight as analysis_weight, confidence_answer, is_confident,
        is_not_confident
    from respondent_groups

),

group_totals as (

    -- the base is everyone who answered the question, "Don't know" included (as the Crime Survey
    -- for England and Wales reports confidence)
    select
        survey_id,
        force_id,
        area_type,
        area_code,
        area_name,
        group_variable,
        group_value,
        count(*) as respondent_count,
        count(confidence_answer) as answered_count,
        count(*) filter (where is_confident) as confident_count,
        sum(analysis_weight) filter (where is_confident)
            / nullif(sum(analysis_weight) filter (where confidence_answer is not null), 0) as weighted_share_confident,
        sum(analysis_weight) filter (where is_not_confident)
            / nullif(sum(analysis_weight) filter (where confidence_answer is not null), 0)
            as weighted_share_not_confident,
        pow(sum(analysis_weight) filter (where confidence_answer is not null), 2)
            / nullif(sum(pow(analysis_weight, 2)) filter (where confidence_answer is not null), 0)
            as effective_sample_size
    from respondent_areas
    group by all

),

with_intervals as (

    -- Wilson score interval with the effective sample size in place of n
    select
        *,
        coalesce(weighted_share_confident, 0) as share,
        {{ wilson_lower('coalesce(weighted_share_confident, 0) * effective_sample_size', 'effective_sample_size', z) }}
            as wilson_lower_bound,
        {{ wilson_upper('coalesce(weighted_share_confident, 0) * effective_sample_size', 'effective_sample_size', z) }}
            as wilson_upper_bound
    from group_totals

),

final as (

    select
        -- keys
        survey_id,
        force_id,
        area_type,
        area_code,
        area_name,
        group_variable,
        group_value,

        -- counts
        cast(respondent_count as bigint) as respondent_count,
        cast(answered_count as bigint) as answered_count,
        cast(confident_count as bigint) as confident_count,

        -- weighted estimates
        case when answered_count > 0 then coalesce(weighted_share_confident, 0) end as weighted_share_confident,
        -- Wilson's interval always holds the share; least/greatest only absorb rounding at 0 and 1
        case when answered_count > 0 then least(share, greatest(0.0, wilson_lower_bound)) end
            as ci_lower_95,
        case when answered_count > 0 then greatest(share, least(1.0, wilson_upper_bound)) end
            as ci_upper_95,
        case when answered_count > 0 then coalesce(weighted_share_not_confident, 0) end
            as weighted_share_not_confident,
        coalesce(effective_sample_size, 0) as effective_sample_size,
        answered_count / nullif(effective_sample_size, 0) as design_effect,

        -- flags (the rows stay: a small group is shown with its warning, not hidden)
        answered_count < {{ var('consultation_min_group_respondents', 30) }} as is_small_group,
        coalesce(effective_sample_size, 0) < {{ var('consultation_min_effective_sample_size', 50) }}
            as is_low_effective_sample

    from with_intervals

)

select * from final
