with

source as (

    select * from {{ source('victim_satisfaction', 'responses') }}

),

renamed as (

    select
        -- ids
        regexp_replace(trim(force), '\s+', ' ', 'g') as force_as_published,
        trim(respondent_id) as respondent_id,

        -- dates
        strptime(survey_month || '-01', '%Y-%m-%d')::date as survey_month_start,

        -- the victim
        trim(crime_group) as crime_group,
        trim(domestic_abuse) = 'Yes' as is_domestic_abuse,

        -- the answer
        trim(overall_satisfaction) as overall_satisfaction,
        trim(overall_satisfaction) in ('Completely satisfied', 'Very satisfied', 'Fairly satisfied') as is_satisfied,
        weight::double as design_weight,

        -- the respondent (optional columns: NULL where the export has none, or the question was not answered)
        nullif(trim(age_band), '') as age_band,
        nullif(trim(sex), '') as sex,
        nullif(trim(ethnic_group), '') as ethnic_group,
        nullif(trim(disability), '') as disability,

        {{ template_lineage_columns() }}

    from source

),

with_force as (

    {{ with_force_id('renamed') }}

)

select * from with_force
