with

source as (

    select * from {{ source('police_uk_api', 'neighbourhood_priorities') }}

),

numbered as (

    -- Priorities have no id, and a team can publish the same one twice.
    {{ with_copy_number('source', ['force_id', 'neighbourhood_id', 'issue', 'issue_date', 'action', 'action_date']) }}

),

renamed as (

    select
        -- ids
        {{ row_copy_id() }} as neighbourhood_priority_id,
        force_id || '/' || neighbourhood_id as neighbourhood_key,
        force_id,
        neighbourhood_id,

        -- the priority: HTML fragments as published, as text
        {{ html_to_text('issue') }} as issue_text,
        {{ html_to_text('action') }} as action_text,

        -- dates: the API writes YYYY-MM-DDT00:00:00
        cast(try_cast(issue_date as timestamp) as date) as issued_on,
        cast(try_cast(action_date as timestamp) as date) as actioned_on,

        -- lineage
        _source_url as source_url,
        _file_sha256 as file_sha256,
        _loaded_at as loaded_at

    from numbered

),

with_flags as (

    select
        *,
        action_text is not null as has_action
    from renamed

)

select * from with_flags
