with

source as (

    select * from {{ source('csp_assessments', 'pages') }}

),

renamed as (

    select
        -- ids
        _csp as csp_key,
        trim(csp_name) as csp_name,
        trim(force) as force_as_published,
        document_name,
        page_number,

        -- dates
        cast(assessment_year as integer) as assessment_year,

        -- the document
        document_url,
        document_format,
        nullif(trim(publisher), '') as publisher,
        nullif(trim(licence), '') as licence,
        page_count,

        -- the text
        coalesce(page_text, '') as page_text,

        -- lineage
        _loaded_at as loaded_at
    from source

),

with_force as (

    -- the force's data.police.uk id, from its name as published (seed force_name_aliases)
    {{ with_force_id('renamed') }}

)

select * from with_force
