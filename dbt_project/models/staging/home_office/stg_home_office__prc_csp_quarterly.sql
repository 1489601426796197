with

source as (

    select * from {{ source('home_office', 'prc_csp') }}

),

renamed as (

    select
        -- ids
        trim(offence_code) as offence_code,

        -- dates: financial years start in April; quarter 1 is April to June
        trim(financial_year) as financial_year,
        cast(left(trim(financial_year), 4) as integer) as financial_year_start,
        financial_quarter,
        cast(
            make_date(cast(left(trim(financial_year), 4) as integer), 4, 1)
            + to_months(3 * (financial_quarter - 1)) as date
        ) as quarter_start_date,

        -- geography as the Home Office names it
        trim(force_name) as force_name,
        trim(csp_name) as csp_name,
        -- for matching ONS spellings: lower case, '&' as 'and', punctuation as spaces
        -- (the same expression as stg_ons__lad_csp_pfa_lookup.csp_name_key)
        trim(regexp_replace(lower(replace(force_name, '&', ' and ')), '[^a-z0-9]+', ' ', 'g')) as force_name_key,
        trim(regexp_replace(lower(replace(csp_name, '&', ' and ')), '[^a-z0-9]+', ' ', 'g')) as csp_name_key,
        lower(trim(csp_name)) like 'unassigned%' as is_unassigned_csp,

        -- classification as published (labels drift between years; see int_recorded_crime__csp_quarterly)
        trim(offence_description) as offence_description,
        trim(offence_group) as published_offence_group,
        trim(offence_subgroup) as published_offence_subgroup,

        -- measures
        offence_count,

        -- lineage
        _source_file as source_file,
        _loaded_at as loaded_at

    from source

)

select * from renamed
