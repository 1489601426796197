-- The plan's measures as loaded from seeds/plan_measures.csv, checked first: a line naming an
-- unknown objective, mart, column, filter column or polarity stops the build with the file's line
-- number (macros/plan_measures.sql). Each measure carries its objective (seeds/plan_objectives.csv),
-- the plan's version and period (seeds/plan_version.csv) and whether its mart can be read yet.
{{ plan_measures_check() }}

with

plan_measures as (

    -- The seed is loaded with DuckDB's CSV reader, in file order, so rowid order is line order; a
    -- reload inserts into the table again with new row ids, hence numbered from the row ids' order
    -- rather than from their values (line 1 is the header).
    select *, row_number() over (order by rowid) + 1 as source_line from {{ ref('plan_measures') }}

),

plan_objectives as (

    select * from {{ ref('plan_objectives') }}

),

plan_version as (

    select * from {{ ref('plan_version') }}

),

source_status as (

    select * from {{ ref('int_measure__source_status') }}

),

typed as (

    select
        cast(source_line as integer) as source_line,
        trim(objective_id) as objective_id,
        trim(measure_id) as measure_id,
        trim(measure_name) as measure_name,
        nullif(trim(mart), '') as mart,
        nullif(trim(numerator), '') as numerator,
        nullif(trim(denominator), '') as denominator,
        nullif(trim(filter), '') as filter,
        trim(statistic) as statistic,
        trim(unit) as unit,
        trim(polarity) as polarity,
        trim(geography) as geography,
        trim(frequency) as frequency,
        trim(baseline_rule) as baseline_rule,
        cast(target as double) as target,
        trim(comparator) as comparator,
        coalesce(cast(maturity_months as integer), 0) as maturity_months,
        coalesce(cast(national as boolean), false) as is_national,
        nullif(trim(national_priority), '') as national_priority,
        nullif(trim(data_gap_reason), '') as data_gap_reason,
        trim(description) as description
    from plan_measures

),

with_objective as (

    select
        typed.*,
        trim(plan_objectives.objective) as objective,
        trim(plan_objectives.statement) as objective_statement,
        cast(plan_objectives.objective_order as integer) as objective_order,
        trim(plan_version.plan_title) as plan_title,
        trim(plan_version.version) as plan_version,
        cast(plan_version.period_start as date) as plan_period_start,
        cast(plan_version.period_end as date) as plan_period_end
    from typed
    inner join plan_objectives
        on typed.objective_id = trim(plan_objectives.objective_id)
    cross join plan_version

),

with_derived as (

    select
        with_objective.*,
        source_line as measure_order,
        'csp' in string_split(geography, '|') as includes_csp,
        case frequency when 'monthly' then 'month' when 'quarterly' then 'quarter' else 'year' end as period_grain,
        case baseline_rule when 'mean_previous_3_years' then 3 else 1 end as baseline_year_count,
        -- targets are written in the unit shown (90 = 90%); values are stored as proportions
        case when unit = 'percent' then target / 100.0 else target end as target_value,
        cast(ceil(maturity_months / 3.0) as integer) as maturity_quarters,
        case when statistic = 'disproportionality'
            then nullif(regexp_extract(filter, 'ethnic_group\s*=\s*([^;|]+)', 1), '')
        end as disproportionality_group
    from with_objective

),

with_source_status as (

    select
        with_derived.*,
        coalesce(source_status.is_readable, false) as is_source_readable,
        case
            when with_derived.mart is null then with_derived.data_gap_reason
            when not source_status.is_readable then source_status.unreadable_reason
        end as source_gap_reason
    from with_derived
    left join source_status
        on with_derived.mart = source_status.source_name

)

select * from with_source_status
