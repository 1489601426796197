-- Like-for-like inspection change: PEEL programmes grade different sets of areas, so a count of
-- areas graded good or outstanding in one programme against the previous one compares different
-- things. For every measure of the plan on fct_inspection_grades compared with the previous
-- period, each force and programme: the measure over the areas (canonical_area) graded in both
-- this programme and the force's previous graded programme, now and then, and a sentence saying
-- which areas were compared. int_measure__change uses it for the change and the status; the
-- measure's value is still every area of the latest programme. Written out at run time from
-- seeds/plan_measures.csv.
{{ config(materialized='table') }}
{{ plan_registry_depends_on() }}
{%- set measures = [] -%}
{%- for row in plan_measure_rows() if row.mart == 'fct_inspection_grades' and row.baseline_rule == 'previous_period' -%}
    {%- set checked = plan_relation(row.mart) -%}
    {%- if checked.relation is not none -%}
        {%- do measures.append({'row': row, 'relation': checked.relation, 'mart': var('plan_measure_marts')[row.mart]}) -%}
    {%- endif -%}
{%- endfor %}

with

{% for measure in measures -%}
{%- set row, mart = measure.row, measure.mart -%}
measure_{{ loop.index }} as (

    -- line {{ row.source_line }}: {{ row.measure_id }}, by area
    select
        '{{ row.measure_id }}' as measure_id,
        cast(mart."{{ mart.force }}" as varchar) as force_id,
        {{ plan_period_sql(mart, 'mart') }} as period_start,
        cast(mart.programme as varchar) as programme,
        cast(mart.canonical_area as varchar) as canonical_area,
        sum(case when {{ plan_filter_sql(row.filter, 'mart') }}
            then {{ '1.0' if row.numerator == 'rows' else 'cast(mart."' ~ row.numerator ~ '" as double)' }}
            else 0 end) as numerator
    from {{ measure.relation }} as mart
    where mart.is_graded
    group by all

),

{% endfor -%}

no_measures as (

    {{ empty_relation({'measure_id': 'varchar', 'force_id': 'varchar', 'period_start': 'date',
                       'programme': 'varchar', 'canonical_area': 'varchar', 'numerator': 'double'}) }}

),

graded_areas as (

    {{ union_all_generated('no_measures', 'measure_', measures | length) }}

),

programmes as (

    select
        measure_id, force_id, period_start,
        string_agg(distinct programme, ' / ') as programme,
        count(distinct canonical_area) as area_count
    from graded_areas
    group by all

),

with_previous as (

    select
        *,
        lag(period_start) over force_history as previous_period_start,
        lag(programme) over force_history as previous_programme,
        lag(area_count) over force_history as previous_area_count
    from programmes
    window force_history as (partition by measure_id, force_id order by period_start)

),

common_areas as (

    select
        with_previous.measure_id, with_previous.force_id, with_previous.period_start,
        count(*) as common_area_count,
        sum(now.numerator) as compared_value,
        sum(earlier.numerator) as baseline_value
    from with_previous
    inner join graded_areas as now
        on {{ keys_match('with_previous', 'now', ['measure_id', 'force_id', 'period_start']) }}
    inner join graded_areas as earlier
        on {{ keys_match('with_previous', 'earlier', ['measure_id', 'force_id']) }}
        and with_previous.previous_period_start = earlier.period_start
        and now.canonical_area = earlier.canonical_area
    group by all

),

with_comparison_basis as (

    select
        with_previous.*,
        coalesce(common_areas.common_area_count, 0) as common_area_count,
        common_areas.compared_value,
        common_areas.baseline_value,
        case
            when with_previous.previous_programme is null then null
            when common_areas.common_area_count is null then
                'No area was graded in both ' || with_previous.previous_programme || ' and '
                || with_previous.programme || ', so there is no like-for-like change.'
            else 'Compared over the ' || common_areas.common_area_count
                || case when common_areas.common_area_count = 1 then ' area' else ' areas' end
                || ' graded in both ' || with_previous.previous_programme || ' and ' || with_previous.programme
                || ' (' || with_previous.programme || ' graded ' || with_previous.area_count || ', '
                || with_previous.previous_programme || ' graded ' || with_previous.previous_area_count || ').'
        end as comparison_basis
    from with_previous
    left join common_areas
        on {{ keys_match('with_previous', 'common_areas', ['measure_id', 'force_id', 'period_start']) }}

),

final as (

    -- the columns and types the yml declares
    select {{ contract_columns() }}
    from with_comparison_basis

)

select * from final
