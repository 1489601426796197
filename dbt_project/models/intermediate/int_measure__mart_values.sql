-- The measure engine: for every measure of the plan whose mart can be read, the mart's rows that
-- pass the measure's filter, added up by force, CSP and the mart's own period (month, quarter or
-- year). Written out at run time from seeds/plan_measures.csv (macros/plan_measures.sql); the
-- plan is checked first (a bad line stops the build, naming it). Periods where
-- nothing passes the filter have no row here: fct_measure_values fills them with zeros.
-- A measure on fct_outcomes that waits for cases to conclude (maturity_months) reads
-- int_measure__outcome_cohorts instead: every cohort counted at the same age, that many months
-- after recording, so a period and the period a year before are compared like with like.
-- A table: three models read it, and each read would otherwise scan every mart again.
{{ config(materialized="table") }}
-- depends_on: {{ ref('int_measure__outcome_cohorts') }}
{{ plan_measures_check() }}
{{ plan_registry_depends_on() }}
{%- set geography = plan_relation('dim_geography') -%}
{%- set measures = [] -%}
{%- for row in plan_measure_rows() if row.mart -%}
    {%- set checked = plan_relation(row.mart) -%}
    {%- set window_months = (row.maturity_months or 0) | int -%}
    {%- set same_age = row.mart == 'fct_outcomes' and window_months > 0
        and row.numerator in ('charge_summons_count', 'positive_outcome_count', 'crime_count', 'rows')
        and (row.denominator or 'rows') in ('charge_summons_count', 'positive_outcome_count', 'crime_count', 'rows') -%}
    {%- if checked.relation is not none -%}
        {%- do measures.append({'row': row, 'relation': ref('int_measure__outcome_cohorts') if same_age else checked.relation,
                                'window_months': window_months if same_age else none,
                                'mart': var('plan_measure_marts')[row.mart]}) -%}
    {%- endif -%}
{%- endfor %}

with

{% for measure in measures -%}
{%- set row, mart = measure.row, measure.mart -%}
{%- set by_csp = 'csp' in (row.geography or '').split('|') -%}
{%- set by_group = row.statistic == 'disproportionality' -%}
{%- set csp_via_lsoa = by_csp and not mart.get('csp') and mart.get('lsoa') and geography.relation is not none -%}
measure_{{ loop.index }} as (

    -- line {{ row.source_line }}: {{ row.measure_id }}
    select
        '{{ row.measure_id }}' as measure_id,
        cast(mart."{{ mart.force }}" as varchar) as force_id,
        {% if by_csp and mart.get('csp') -%}
        cast(mart."{{ mart.csp }}" as varchar)
        {%- elif csp_via_lsoa -%}
        cast(geography.csp_code as varchar)
        {%- else -%}
        cast(null as varchar)
        {%- endif %} as csp_code,
        {% if by_group -%} cast(mart."ethnic_group" as varchar) {%- else -%} cast(null as varchar) {%- endif %} as ethnic_group,
        {{ plan_period_sql(mart, 'mart') }} as period_start,
        sum({{ '1.0' if row.numerator == 'rows' else 'cast(mart."' ~ row.numerator ~ '" as double)' }}) as numerator,
        sum({{ 'cast(null as double)' if not row.denominator else ('1.0' if row.denominator == 'rows' else 'cast(mart."' ~ row.denominator ~ '" as double)') }}) as denominator,
        count(*) as source_row_count
    from {{ measure.relation }} as mart
    {% if csp_via_lsoa -%}
    left join {{ geography.relation }} as geography
        on mart."{{ mart.lsoa }}" = geography.lsoa_code
    {% endif -%}
    where {{ plan_filter_sql(row.filter, 'mart', 'ethnic_group' if by_group else none) }}
    {%- if measure.window_months is not none %}
        and mart.window_months = {{ measure.window_months }}
    {%- endif %}
    group by all

),

{% endfor -%}

no_measures as (

    {{ empty_relation({'measure_id': 'varchar', 'force_id': 'varchar', 'csp_code': 'varchar',
                       'ethnic_group': 'varchar', 'period_start': 'date', 'numerator': 'double',
                       'denominator': 'double', 'source_row_count': 'bigint'}) }}

),

all_measures as (

    {{ union_all_generated('no_measures', 'measure_', measures | length) }}

)

select * from all_measures
