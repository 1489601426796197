{#- A victim survey group's totals, which add across months (shares do not): interviews, satisfied
    interviews, and the sums of weights, squared weights (Kish's effective sample) and satisfied
    weights. Over rows with `is_satisfied` and `design_weight`. -#}
{% macro victim_survey_totals() -%}
        count(*) as respondent_count,
        count(*) filter (where is_satisfied) as satisfied_respondent_count,
        sum(design_weight) as weight_sum,
        sum(design_weight * design_weight) as weight_squared_sum,
        coalesce(sum(design_weight) filter (where is_satisfied), 0) as satisfied_weight_sum
{%- endmacro %}

{#- What those totals give, over one month or added over several: the weighted share satisfied, and
    Kish's effective sample size (sum of weights squared over the sum of squared weights), which the
    share's Wilson interval takes in place of n. -#}
{% macro victim_survey_shares() -%}
        satisfied_weight_sum / weight_sum as weighted_share_satisfied,
        weight_sum * weight_sum / weight_squared_sum as effective_sample_size
{%- endmacro %}
