with

source as (

    select * from {{ source('consultation', 'responses') }}

),

renamed as (

    select
        -- ids
        respondent_key,
        _survey as survey_id,
        _force_id as force_id,

        -- geography
        trim(district) as district_answer,

        -- how and when
        case
            when lower(mode) like '%telephone%' or lower(mode) like '%phone%' then 'Telephone'
            when lower(mode) like '%web%' or lower(mode) like '%online%' then 'Online'
            when lower(mode) like '%paper%' then 'Paper'
        end as mode,
        mode as collector,
        completed_date,

        -- who (answers as given; seed consultation_weighting_categories maps them)
        trim(age_band) as age_band_answer,
        trim(sex) as sex_answer,
        trim(ethnic_group) as ethnic_group_answer,
        trim(disability) as disability_answer,

        -- what: the choices in order (ranked) or as selected (multi-select), empty ones dropped
        case
            when priorities_selected is not null and trim(priorities_selected) <> ''
                then list_filter(
                    list_transform(string_split(priorities_selected, ';'), lambda choice: trim(choice)),
                    lambda choice: choice <> ''
                )
            else list_filter([priority_1, priority_2, priority_3], lambda choice: choice is not null and trim(choice) <> '')
        end as priority_choices,
        priorities_selected is null or trim(priorities_selected) = '' as is_ranked_layout,
        trim(confidence) as confidence_answer,

        -- comments (derived at load; the text is never loaded)
        has_comment,
        case when comment_themes is null or comment_themes = '' then []::varchar[]
             else string_split(comment_themes, ';') end as comment_themes,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
