-- A view: rename, cast and clean. Consumers filter it by month (source_month), and DuckDB
-- pushes that filter into the raw table's scan, so an incremental build reads only new months.
with

source as (

    select * from {{ source('police_uk', 'stop_search') }}

),

renamed as (

    select
        -- ids
        _force_id as force_id,

        -- dates: the month is the file's; the timestamp keeps its published offset
        date as searched_at,
        cast(_month || '-01' as date) as month_start,

        -- the search
        type as search_type,
        type in ('Person search', 'Person and Vehicle search') as is_person_searched,
        part_of_a_policing_operation as is_part_of_policing_operation,
        nullif(trim(policing_operation), '') as policing_operation,
        nullif(trim(legislation), '') as legislation,
        nullif(trim(object_of_search), '') as object_of_search,

        -- the person
        nullif(trim(gender), '') as gender,
        nullif(trim(age_range), '') as age_range,
        nullif(trim(self_defined_ethnicity), '') as self_defined_ethnicity,
        nullif(trim(officer_defined_ethnicity), '') as officer_defined_ethnicity,

        -- outcome
        nullif(trim(outcome), '') as outcome,
        nullif(trim(outcome), '') = 'Arrest' as is_arrest,
        outcome_linked_to_object_of_search as is_outcome_linked_to_object,
        removal_of_more_than_just_outer_clothing as is_more_than_outer_clothing_removed,

        -- geography
        latitude,
        longitude,
        longitude is not null and latitude is not null as has_location,

        -- lineage
        {{ police_uk_lineage_columns() }}

    from source

),

with_ethnic_group as (

    -- The five broad 2011 Census groups plus Not stated, from the self-defined text
    -- (the basis of the Home Office's disproportionality statistics). Chinese is Asian in
    -- the 2011 classification; 2001-style texts ("Asian or Asian British - ...") map by prefix.
    select
        *,
        case
            when self_defined_ethnicity is null
                or self_defined_ethnicity ilike '%not stated%' then 'Not stated'
            when self_defined_ethnicity ilike 'white%' then 'White'
            when self_defined_ethnicity ilike 'black%' then 'Black'
            when self_defined_ethnicity ilike 'asian%'
                or self_defined_ethnicity ilike '%chinese' then 'Asian'
            when self_defined_ethnicity ilike 'mixed%' then 'Mixed'
            else 'Other'
        end as ethnic_group
    from renamed

)

select * from with_ethnic_group
