with

source as (

    select * from {{ source('home_office', 'prc_pfa_quarterly') }}

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
        -- for matching: lower case, '&' as 'and', punctuation as spaces (joins seed home_office_force_names)
        trim(regexp_replace(lower(replace(force_name, '&', ' and ')), '[^a-z0-9]+', ' ', 'g')) as force_name_key,
        -- British Transport Police and the national fraud bodies are rows of the table, not force
        -- areas: kept (they are recorded crime), flagged so force comparisons and rates leave them out
        trim(regexp_replace(lower(replace(force_name, '&', ' and ')), '[^a-z0-9]+', ' ', 'g'))
            not in ('british transport police', 'action fraud', 'cifas', 'uk finance') as is_territorial_force,
        trim(regexp_replace(lower(replace(force_name, '&', ' and ')), '[^a-z0-9]+', ' ', 'g'))
            in ('action fraud', 'cifas', 'uk finance') as is_national_fraud_body,

        -- classification as published (labels drift between years, as in the CSP table)
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
