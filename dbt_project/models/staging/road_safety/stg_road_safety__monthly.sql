with

source as (

    select * from {{ source('road_safety', 'monthly') }}

),

renamed as (

    select
        {{ force_return_key_columns() }}

        -- casualties
        killed as killed_count,
        seriously_injured as seriously_injured_count,
        seriously_injured_adjusted as seriously_injured_adjusted_estimate,

        -- provenance
        trim(stats19_release) as stats19_release,

        {{ template_lineage_columns() }}

    from source

),

with_force as (

    {{ with_force_id('renamed') }}

)

select * from with_force
