-- Which areas and periods each readable mart covers: a force is covered in a period when the mart
-- has any row for it then (the force published); a CSP when its force is covered (CSPs from
-- dim_geography for marts located by LSOA, from the mart itself for marts by CSP). A measure that
-- counts nothing in a covered period counts zero there; outside coverage it has no value.
{{ plan_registry_depends_on() }}
{%- set geography = plan_relation('dim_geography') -%}
{%- set marts = [] -%}
{%- for name, entry in var('plan_measure_marts', {}).items() -%}
    {%- set checked = plan_relation(name) -%}
    {%- if checked.relation is not none -%}
        {%- do marts.append({'name': name, 'relation': checked.relation, 'entry': entry}) -%}
    {%- endif -%}
{%- endfor %}

with

{% if geography.relation is not none -%}
force_csps as (

    select distinct
        cast(force_id as varchar) as force_id,
        cast(csp_code as varchar) as csp_code
    from {{ geography.relation }}
    where csp_code is not null and force_id is not null

),
{%- else -%}
force_csps as (

    select cast(null as varchar) as force_id, cast(null as varchar) as csp_code where false

),
{%- endif %}

{% for mart in marts -%}
{%- set entry = mart.entry -%}
force_periods_{{ loop.index }} as (

    select distinct
        '{{ mart.name }}' as mart,
        cast("{{ entry.force }}" as varchar) as force_id,
        {{ plan_period_sql(entry) }} as period_start
    from {{ mart.relation }}
    where "{{ entry.force }}" is not null and "{{ entry.period }}" is not null

),

coverage_{{ loop.index }} as (

    select mart, 'force' as area_type, force_id as area_code, force_id, period_start
    from force_periods_{{ loop.index }}
    {% if entry.get('csp') -%}
    union all
    select distinct
        '{{ mart.name }}', 'csp', cast("{{ entry.csp }}" as varchar), cast("{{ entry.force }}" as varchar),
        {{ plan_period_sql(entry) }}
    from {{ mart.relation }}
    where "{{ entry.csp }}" is not null and "{{ entry.force }}" is not null and "{{ entry.period }}" is not null
    {%- elif entry.get('lsoa') %}
    union all
    select force_periods_{{ loop.index }}.mart, 'csp', force_csps.csp_code, force_csps.force_id,
        force_periods_{{ loop.index }}.period_start
    from force_periods_{{ loop.index }}
    inner join force_csps
        on force_periods_{{ loop.index }}.force_id = force_csps.force_id
    {%- endif %}

),

{% endfor -%}

no_coverage as (

    {{ empty_relation({'mart': 'varchar', 'area_type': 'varchar', 'area_code': 'varchar',
                       'force_id': 'varchar', 'period_start': 'date'}) }}

),

all_coverage as (

    {{ union_all_generated('no_coverage', 'coverage_', marts | length) }}

)

select * from all_coverage
