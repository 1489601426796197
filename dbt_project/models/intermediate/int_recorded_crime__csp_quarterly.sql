with

recorded_crime as (

    select * from {{ ref('stg_home_office_prc__csp_quarterly') }}

),

offence_labels as (

    select * from {{ ref('prc_offence_labels') }}

),

offence_groups as (

    select * from {{ ref('prc_offence_groups') }}

),

force_names as (

    -- keyed as the staging models key names (macros/name_key.sql)
    select
        {{ name_key('published_name') }} as name_key,
        force_id
    from {{ ref('home_office_force_names') }}

),

csp_aliases as (

    select
        {{ name_key('home_office_csp_name') }} as home_office_key,
        {{ name_key('ons_csp_name') }} as ons_key
    from {{ ref('csp_name_aliases') }}

),

csps as (

    select * from {{ ref('int_geography__csp') }}

),

police_force_areas as (

    select * from {{ ref('police_force_areas') }}

),

labelled as (

    -- labels drift between years ('Theft Offences' / 'Theft offences'): one current label each
    select
        recorded_crime.*,
        coalesce(group_labels.label, recorded_crime.published_offence_group) as offence_group,
        coalesce(subgroup_labels.label, recorded_crime.published_offence_subgroup) as offence_subgroup
    from recorded_crime
    left join offence_labels as group_labels
        on recorded_crime.published_offence_group = group_labels.published_label
        and group_labels.label_type = 'offence_group'
    left join offence_labels as subgroup_labels
        on recorded_crime.published_offence_subgroup = subgroup_labels.published_label
        and subgroup_labels.label_type = 'offence_subgroup'

),

with_force as (

    select
        labelled.*,
        force_names.force_id,
        police_force_areas.pfa_code
    from labelled
    left join force_names
        on labelled.force_name_key = force_names.name_key
    left join police_force_areas
        on force_names.force_id = police_force_areas.force_id

),

csp_candidates as (

    -- The Home Office names CSPs, ONS codes them: match the curated alias, else the name
    -- itself, within the same force area; the newest CSP code wins if a name was recoded.
    select
        with_force.financial_year,
        with_force.financial_quarter,
        with_force.force_name,
        with_force.csp_name,
        with_force.offence_code,
        csps.csp_code,
        case when csp_aliases.ons_key is not null then 'alias' else 'ons_name' end as csp_match,
        row_number() over (
            partition by with_force.financial_year, with_force.financial_quarter, with_force.force_name,
                with_force.csp_name, with_force.offence_code
            order by csps.vintage desc, csps.csp_code
        ) as preference
    from with_force
    left join csp_aliases
        on with_force.csp_name_key = csp_aliases.home_office_key
    inner join csps
        on coalesce(csp_aliases.ons_key, with_force.csp_name_key) = csps.csp_name_key
        and with_force.pfa_code = csps.pfa_code

),

matched as (

    select
        with_force.*,
        csp_candidates.csp_code,
        case
            when csp_candidates.csp_code is not null then csp_candidates.csp_match
            when with_force.is_unassigned_csp then 'unassigned'
            else 'unmatched'
        end as csp_match
    from with_force
    left join csp_candidates
        on {{ keys_match('with_force', 'csp_candidates', [
            'financial_year', 'financial_quarter', 'force_name', 'csp_name', 'offence_code'
        ]) }}
        and csp_candidates.preference = 1

),

with_offence_group as (

    select
        matched.financial_year,
        matched.financial_year_start,
        matched.financial_quarter,
        matched.quarter_start_date,
        matched.force_id,
        matched.pfa_code,
        matched.force_name,
        matched.csp_name,
        matched.csp_code,
        matched.csp_match,
        matched.offence_code,
        matched.offence_description,
        matched.offence_group,
        matched.offence_subgroup,
        offence_groups.police_uk_crime_type_group,
        coalesce(offence_groups.is_in_police_uk, false) as is_in_police_uk,
        offence_groups.offence_group is not null as is_known_offence_group,
        matched.offence_count,
        matched.source_file
    from matched
    left join offence_groups
        on matched.offence_group = offence_groups.offence_group

)

select * from with_offence_group
