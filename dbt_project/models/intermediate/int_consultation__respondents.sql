with

responses as (

    select * from {{ ref('stg_consultation__responses') }}

),

weighting_categories as (

    select * from {{ ref('consultation_weighting_categories') }}

),

districts as (

    select * from {{ ref('int_geography__lad_csp_pfa') }}
    where is_latest_vintage_for_district and force_id is not null

),

police_forces as (

    select * from {{ ref('police_forces') }}

),

with_district as (

    -- the questionnaire lists the force area's districts by their ONS names
    select
        responses.*,
        districts.lad_code,
        districts.lad_name,
        districts.csp_code,
        districts.csp_name,
        police_forces.force_name
    from responses
    left join districts
        on districts.force_id = responses.force_id
        and lower(districts.lad_name) = lower(responses.district_answer)
    left join police_forces
        on police_forces.force_id = responses.force_id

),

with_categories as (

    -- each answer's weighting category (NULL = not answered: that variable does not adjust the
    -- respondent's weight) and the group it is reported in
    select
        with_district.*,
        age.weighting_category as weighting_age_band,
        sex.weighting_category as weighting_sex,
        ethnic.weighting_category as weighting_ethnic_group,
        disability.weighting_category as weighting_disability,
        coalesce(age.reporting_group, 'Not stated') as age_group,
        coalesce(sex.reporting_group, 'Other or not stated') as sex_group,
        coalesce(ethnic.reporting_group, 'Not stated') as ethnic_group,
        coalesce(disability.reporting_group, 'Not stated') as disability_group
    from with_district
    left join weighting_categories as age
        on age.variable = 'age_band' and age.answer = with_district.age_band_answer
    left join weighting_categories as sex
        on sex.variable = 'sex' and sex.answer = with_district.sex_answer
    left join weighting_categories as ethnic
        on ethnic.variable = 'ethnic_group' and ethnic.answer = with_district.ethnic_group_answer
    left join weighting_categories as disability
        on disability.variable = 'disability' and disability.answer = with_district.disability_answer

),

final as (

    select
        -- ids
        survey_id,
        respondent_key,

        -- geography
        force_id,
        force_name,
        lad_code,
        coalesce(lad_name, district_answer) as lad_name,
        csp_code,
        csp_name,
        lad_code is not null as is_in_force_area,

        -- how
        mode,
        completed_date,

        -- weighting categories
        weighting_age_band,
        weighting_sex,
        weighting_ethnic_group,
        weighting_disability,

        -- reporting groups
        age_group,
        sex_group,
        ethnic_group,
        disability_group,

        -- answers
        priority_choices,
        is_ranked_layout,
        confidence_answer,
        confidence_answer in ('Strongly agree', 'Tend to agree') as is_confident,
        confidence_answer in ('Tend to disagree', 'Strongly disagree') as is_not_confident,
        has_comment,
        comment_themes

    from with_categories

)

select * from final
