with

source as (

    select * from {{ source('police_uk_api', 'senior_officers') }}

),

numbered as (

    -- The API has no officer id; a force could list the same text twice.
    {{ with_copy_number('source', ['force_id', 'name', 'rank', 'bio']) }}

),

renamed as (

    select
        -- ids
        {{ row_copy_id() }} as senior_officer_id,
        force_id,

        -- the officer
        trim(name) as officer_name,
        nullif(trim(rank), '') as rank,
        {{ html_to_text('bio') }} as bio_text,
        contact_details,

        -- lineage
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _loaded_at as loaded_at

    from numbered

)

select * from renamed
