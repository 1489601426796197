with

respondent_areas as (

    -- districts use the raking weight; the force area the expansion weight
    select * from {{ ref('int_consultation__respondent_areas') }}

),

respondents as (

    select * from {{ ref('int_consultation__respondents') }}

),

survey_years as (

    -- the calendar year the survey's fieldwork ended in: the year its estimate speaks for
    select survey_id, max(year(completed_date)) as survey_year
    from respondents
    group by survey_id

),

group_totals as (

    -- the base is everyone who answered the question, "Don't know" included (as the Crime Survey
    -- for England and Wales reports confidence)
    select
        {{ consultation_group_columns() }},
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

estimates as (

    select
        -- keys
        {{ consultation_group_columns() }},

        -- counts
        cast(respondent_count as bigint) as respondent_count,
        cast(answered_count as bigint) as answered_count,
        cast(confident_count as bigint) as confident_count,

        -- weighted estimates
        case when answered_count > 0 then coalesce(weighted_share_confident, 0) end as weighted_share_confident,
        -- Wilson score interval with the effective sample size in place of n
        case when answered_count > 0 then
            {{ weighted_share_ci_lower('coalesce(weighted_share_confident, 0)', 'effective_sample_size', z_95()) }}
        end as ci_lower_95,
        case when answered_count > 0 then
            {{ weighted_share_ci_upper('coalesce(weighted_share_confident, 0)', 'effective_sample_size', z_95()) }}
        end as ci_upper_95,
        case when answered_count > 0 then coalesce(weighted_share_not_confident, 0) end
            as weighted_share_not_confident,
        coalesce(effective_sample_size, 0) as effective_sample_size,
        answered_count / nullif(effective_sample_size, 0) as design_effect,

        -- flags (the rows stay: a small group is shown with its warning, not hidden)
        {{ consultation_sample_flags('answered_count', 'coalesce(effective_sample_size, 0)') }}

    from group_totals

),

with_survey_year as (

    select
        estimates.*,
        survey_years.survey_year,
        -- the weighted share as a count of the effective sample: what a test of change between two
        -- surveys may treat as successes out of effective_sample_size trials
        weighted_share_confident * effective_sample_size as effective_confident_count
    from estimates
    left join survey_years
        on estimates.survey_id = survey_years.survey_id

),

final as (

    select
        {{ contract_columns() }}
    from with_survey_year

)

select * from final
