{#-
    Small statistical building blocks for the performance models, as SQL expressions.
    DuckDB has no erf or normal CDF, so the standard normal CDF is the Abramowitz and Stegun
    approximation 26.2.17 (absolute error below 7.5e-8), good for p-values to six places.
-#}

{#- z for a two-sided interval at the configured significance level (1.959964 for 0.05). -#}
{% macro z_two_sided() -%}
    {%- set level = var('significance_level', 0.05) | float -%}
    {%- set table = {0.1: 1.6448536270, 0.05: 1.9599639845, 0.01: 2.5758293035, 0.001: 3.2905267315} -%}
    {%- if level not in table -%}
        {{ exceptions.raise_compiler_error("var significance_level must be one of 0.1, 0.05, 0.01, 0.001; found " ~ level) }}
    {%- endif -%}
    {{ table[level] }}
{%- endmacro %}


{#- z for an interval stated at 95% whatever the configured significance level (the consultation's
    shares): the standard normal's 97.5th percentile. -#}
{% macro z_95() -%}
    1.959963984540054
{%- endmacro %}


{#- Two-sided p-value of a standard normal statistic: 2 * (1 - Phi(|z|)). -#}
{% macro normal_two_sided_p(z) -%}
    (case when ({{ z }}) is null then null else
        2.0 * (
            exp(-0.5 * ({{ z }}) * ({{ z }})) / sqrt(2.0 * pi())
            * ((((1.330274429 * (1.0 / (1.0 + 0.2316419 * abs({{ z }})))
                  - 1.821255978) * (1.0 / (1.0 + 0.2316419 * abs({{ z }})))
                  + 1.781477937) * (1.0 / (1.0 + 0.2316419 * abs({{ z }})))
                  - 0.356563782) * (1.0 / (1.0 + 0.2316419 * abs({{ z }})))
                  + 0.319381530) * (1.0 / (1.0 + 0.2316419 * abs({{ z }})))
        )
    end)
{%- endmacro %}


{#- Byar's approximation to the exact Poisson interval of an observed count (as used by PHE/OHID). -#}
{% macro poisson_lower(count) -%}
    (case when ({{ count }}) is null then null when ({{ count }}) <= 0 then 0.0 else
        ({{ count }}) * pow(1.0 - 1.0 / (9.0 * ({{ count }})) - {{ z_two_sided() }} / (3.0 * sqrt({{ count }})), 3)
    end)
{%- endmacro %}

{% macro poisson_upper(count) -%}
    (case when ({{ count }}) is null then null else
        (({{ count }}) + 1.0) * pow(1.0 - 1.0 / (9.0 * (({{ count }}) + 1.0)) + {{ z_two_sided() }} / (3.0 * sqrt(({{ count }}) + 1.0)), 3)
    end)
{%- endmacro %}


{#- Wilson score interval of a proportion x / n; z defaults to the configured significance level's.
    A weighted survey share p with effective sample size n_eff is wilson_*(p * n_eff, n_eff). -#}
{% macro wilson_lower(x, n, z=none) -%}
    {{ _wilson_bound(x, n, '-', z) }}
{%- endmacro %}

{% macro wilson_upper(x, n, z=none) -%}
    {{ _wilson_bound(x, n, '+', z) }}
{%- endmacro %}

{#- The 95% interval of a weighted survey share: Wilson's score interval with the effective sample
    size `n_eff` in place of n. Wilson's interval always holds the share; least/greatest only absorb
    rounding at 0 and 1. -#}
{% macro weighted_share_ci_lower(share, n_eff, z=none) -%}
    least({{ share }}, greatest(0.0, {{ wilson_lower(share ~ ' * ' ~ n_eff, n_eff, z) }}))
{%- endmacro %}

{% macro weighted_share_ci_upper(share, n_eff, z=none) -%}
    greatest({{ share }}, least(1.0, {{ wilson_upper(share ~ ' * ' ~ n_eff, n_eff, z) }}))
{%- endmacro %}

{% macro _wilson_bound(x, n, sign, z) -%}
    {%- set z = z if z is not none else z_two_sided() -%}
    (case when ({{ n }}) is null or ({{ n }}) <= 0 then null else
        (({{ x }}) / ({{ n }}) + {{ z }} ^ 2 / (2.0 * ({{ n }}))
         {{ sign }} {{ z }} * sqrt(({{ x }}) / ({{ n }}) * (1.0 - ({{ x }}) / ({{ n }})) / ({{ n }}) + {{ z }} ^ 2 / (4.0 * ({{ n }}) * ({{ n }}))))
        / (1.0 + {{ z }} ^ 2 / ({{ n }}))
    end)
{%- endmacro %}


{#- Statistics are stored to 10 decimal places: far below any difference that matters, and the
    unit tests can state their hand-computed expectations exactly. -#}
{% macro stat_round(expression) -%}
    round({{ expression }}, 10)
{%- endmacro %}
