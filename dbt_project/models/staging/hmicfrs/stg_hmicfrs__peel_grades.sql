with

source as (

    select * from {{ source('hmicfrs', 'peel_grades') }}

),

peel_grades as (

    select * from {{ ref('peel_grades') }}

),

peel_areas as (

    select * from {{ ref('peel_areas') }}

),

renamed as (

    select
        -- ids
        regexp_replace(trim(force), '\s+', ' ', 'g') as force_as_published,
        regexp_replace(trim(programme), '\s+', ' ', 'g') as programme,
        regexp_replace(trim(area), '\s+', ' ', 'g') as area,

        -- dates
        cast(year as integer) as programme_start_year,
        cast(published_date as date) as published_date,

        -- the judgement
        nullif(regexp_replace(trim(grade), '\s+', ' ', 'g'), '') as grade_as_published,
        nullif(trim(causes_of_concern), '') as causes_of_concern,
        nullif(trim(areas_for_improvement), '') as areas_for_improvement,
        nullif(trim(report_url), '') as report_url,

        -- lineage
        _edition as edition,
        _source_file as source_file,
        _loaded_at as loaded_at
    from source

),

with_force as (

    -- the force's data.police.uk id, from its name as published (seed force_name_aliases)
    {{ with_force_id('renamed') }}

),

with_grade as (

    -- The scale follows the programme's start year: PEEL 2014-2019 graded four ways (no Adequate).
    select
        with_force.*,
        case when with_force.programme_start_year < 2021 then 'four_point' else 'five_point' end as grade_scale,
        peel_grades.grade,
        peel_grades.grade_rank
    from with_force
    left join peel_grades
        on peel_grades.grade_scale = case when with_force.programme_start_year < 2021 then 'four_point' else 'five_point' end
        and lower(peel_grades.grade) = lower(with_force.grade_as_published)

),

with_finding_counts as (

    -- A cell holds the findings one per line (or |-separated), or just their number.
    select
        *,
        case
            when causes_of_concern is null then 0
            when regexp_full_match(causes_of_concern, '\d+') then cast(causes_of_concern as integer)
            else len(list_filter(regexp_split_to_array(causes_of_concern, '\s*[\n|]\s*'), lambda item: trim(item) <> ''))
        end as cause_of_concern_count,
        case
            when areas_for_improvement is null then 0
            when regexp_full_match(areas_for_improvement, '\d+') then cast(areas_for_improvement as integer)
            else len(list_filter(regexp_split_to_array(areas_for_improvement, '\s*[\n|]\s*'), lambda item: trim(item) <> ''))
        end as area_for_improvement_count
    from with_grade

),

with_canonical_area as (

    select
        with_finding_counts.*,
        coalesce(peel_areas.canonical_area, with_finding_counts.area) as canonical_area
    from with_finding_counts
    left join peel_areas
        on lower(with_finding_counts.area) = lower(peel_areas.area)

),

final as (

    select
        -- ids
        md5(concat_ws('|', force_id, lower(programme), lower(area))) as peel_grade_id,
        force_id,
        force_as_published,
        programme,
        area,
        canonical_area,

        -- dates
        programme_start_year,
        published_date,

        -- the judgement
        grade_scale,
        grade,
        grade_as_published,
        grade_rank,
        grade is not null as is_graded,
        cause_of_concern_count,
        area_for_improvement_count,
        causes_of_concern,
        areas_for_improvement,
        report_url,

        -- lineage
        edition,
        source_file,
        loaded_at
    from with_canonical_area

)

select * from final
