with

source as (

    select * from {{ source('road_safety', 'monthly') }}

),

renamed as (

    select
        -- ids
        regexp_replace(trim(force), '\s+', ' ', 'g') as force_as_published,

        -- dates
        strptime(month || '-01', '%Y-%m-%d')::date as month_start,

        -- casualties
        killed as killed_count,
        seriously_injured as seriously_injured_count,
        seriously_injured_adjusted as seriously_injured_adjusted_estimate,

        -- provenance
        trim(stats19_release) as stats19_release,

        -- lineage
        _edition as edition,
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

),

with_force as (

    {{ with_force_id('renamed') }}

)

select * from with_force
