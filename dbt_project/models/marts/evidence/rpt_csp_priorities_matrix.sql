-- The CSP priorities matrix: every CSP (its newest assessment) against every theme, so a
-- theme no assessment mentions still shows as a gap.
with

priorities as (

    select * from {{ ref('fct_csp_priorities') }}

),

passages as (

    select * from {{ ref('stg_csp_assessments__passages') }}

),

themes as (

    select * from {{ ref('csp_themes') }}

),

latest_assessments as (

    select
        csp_key,
        any_value(csp_name) as csp_name,
        any_value(force_id) as force_id,
        max(assessment_year) as assessment_year
    from passages
    group by csp_key

),

grid as (

    select
        latest_assessments.*,
        themes.theme,
        themes.theme_label,
        themes.sort_order as theme_sort_order
    from latest_assessments
    cross join themes

),

filled as (

    select
        grid.*,
        coalesce(priorities.is_priority, false) as is_priority,
        priorities.theme is not null as is_mentioned,
        coalesce(priorities.mention_count, 0) as mention_count,
        priorities.evidence_page_number,
        priorities.evidence_snippet
    from grid
    left join priorities
        on {{ keys_match('grid', 'priorities', ['csp_key', 'assessment_year', 'theme']) }}

),

with_force_counts as (

    select
        *,
        count(*) filter (where is_priority) over (partition by force_id, theme) as force_priority_csp_count,
        count(*) over (partition by force_id, theme) as force_csp_count
    from filled

),

final as (

    select
        {{ contract_columns() }}
    from with_force_counts

)

select * from final
