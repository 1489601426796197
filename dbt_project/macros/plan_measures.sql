{#-
    The plan's measure framework (seeds/plan_measures.csv): where each measure's numbers come from.

    The relations a measure may read are `vars.plan_measure_marts` (marts a measure counts) and
    `vars.plan_measure_lookups` (geography, population, most similar groups), each with a status:

      available  a model or seed of this project: `ref()`'d when the project is parsed, so every
                 performance model builds after it (and is skipped if it fails its tests); a column
                 the registry lists but the relation lacks fails the build.
      planned    not (yet) part of the project: looked up with `adapter.get_relation` when the model
                 runs. Absent, or lacking a listed column, it reads as empty and the measures on it
                 are data gaps whose reason says so; present, it is used as it is.

    ingest/measures.py checks the plan file against the same registry before dbt runs, and
    `plan_measure_problems` checks it again here, naming the file's line, so a bad plan never
    builds.
-#}

{% macro plan_registry_entry(name) -%}
    {%- set marts = var('plan_measure_marts', {}) -%}
    {%- set lookups = var('plan_measure_lookups', {}) -%}
    {%- if name in marts -%}
        {{ return(marts[name]) }}
    {%- elif name in lookups -%}
        {{ return(lookups[name]) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{#- Every available relation of the registry, ref()'d so the caller builds after all of them. -#}
{% macro plan_registry_depends_on() -%}
    {%- for registry in [var('plan_measure_marts', {}), var('plan_measure_lookups', {})] -%}
        {%- for name, entry in registry.items() if entry.status == 'available' %}
-- depends_on: {{ ref(name) }}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}


{#- {relation, reason}: the relation to read (none when it cannot be read) and why not. -#}
{% macro plan_relation(name) -%}
    {%- set entry = plan_registry_entry(name) -%}
    {%- if entry is none -%}
        {{ exceptions.raise_compiler_error("'" ~ name ~ "' is not in vars.plan_measure_marts or vars.plan_measure_lookups (dbt_project.yml)") }}
    {%- endif -%}
    {%- set expected = entry.get('columns', []) -%}
    {%- if entry.status == 'available' -%}
        {%- set relation = ref(name) -%}
    {%- elif entry.status == 'planned' -%}
        {%- if not execute -%}
            {{ return({'relation': none, 'reason': 'not checked while parsing'}) }}
        {%- endif -%}
        {%- set relation = adapter.get_relation(database=target.database, schema=entry.schema, identifier=name) -%}
        {%- if relation is none -%}
            {{ return({'relation': none, 'reason': entry.schema ~ '.' ~ name ~ ' is not built yet (a planned source)'}) }}
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("vars.plan_measure_marts." ~ name ~ ": status must be available or planned, found '" ~ entry.status ~ "'") }}
    {%- endif -%}
    {%- if execute -%}
        {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- set wanted = expected + [entry.get('period'), entry.get('force'), entry.get('csp'), entry.get('csp_name'), entry.get('lsoa')] -%}
        {%- set missing = [] -%}
        {%- for column in wanted if column and column | lower not in present and column not in missing -%}
            {%- do missing.append(column) -%}
        {%- endfor -%}
        {%- if missing and entry.status == 'available' -%}
            {{ exceptions.raise_compiler_error(entry.schema ~ "." ~ name ~ " has no column(s) " ~ missing | join(', ') ~ " that vars.plan_measure_marts/plan_measure_lookups in dbt_project.yml lists: correct the registry (and seeds/plan_measures.csv)") }}
        {%- elif missing -%}
            {{ return({'relation': none, 'reason': entry.schema ~ '.' ~ name ~ ' has no column(s) ' ~ missing | join(', ') ~ ' yet'}) }}
        {%- endif -%}
    {%- endif -%}
    {{ return({'relation': relation, 'reason': none}) }}
{%- endmacro %}


{#- One row per registry entry: whether it can be read and, if not, why. -#}
{% macro plan_source_status_sql() -%}
    {%- set rows = [] -%}
    {%- for registry, kind in [(var('plan_measure_marts', {}), 'mart'), (var('plan_measure_lookups', {}), 'lookup')] -%}
        {%- for name, entry in registry.items() -%}
            {%- set checked = plan_relation(name) -%}
            {%- do rows.append("('" ~ name ~ "', '" ~ kind ~ "', '" ~ entry.status ~ "', '" ~ entry.schema ~ "', '"
                ~ entry.get('grain', '') ~ "', " ~ ('true' if checked.relation is not none else 'false') ~ ", "
                ~ ("'" ~ (checked.reason | replace("'", "''")) ~ "'" if checked.reason else 'cast(null as varchar)') ~ ")") -%}
        {%- endfor -%}
    {%- endfor -%}
    select * from (values
        {{ rows | join(',\n        ') }}
    ) as source_status (source_name, source_kind, registry_status, source_schema, grain, is_readable, unreadable_reason)
{%- endmacro %}


{#- The plan's rows as dicts, in file order, each with its `source_line` (header = line 1). -#}
{% macro plan_measure_rows() -%}
    {%- set seed = ref('plan_measures') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select *, row_number() over (order by rowid) + 1 as source_line from {{ seed }} order by rowid
    {%- endset -%}
    {%- set table = run_query(query) -%}
    {%- set rows = [] -%}
    {%- for row in table.rows -%}
        {%- set values = {} -%}
        {%- for column in table.column_names -%}
            {%- do values.update({column: row[column]}) -%}
        {%- endfor -%}
        {%- do rows.append(values) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}


{#- `crime_type=Burglary|Robbery; is_anti_social_behaviour=false` -> [(column, op, [values])]. -#}
{% macro plan_parse_filter(text) -%}
    {%- set clauses = [] -%}
    {%- for clause in (text or '').split(';') if clause.strip() -%}
        {%- set op = '!=' if '!=' in clause else '=' -%}
        {%- set parts = clause.split(op, 1) -%}
        {%- set values = [] -%}
        {%- for value in (parts[1] if parts | length > 1 else '').split('|') if value.strip() -%}
            {%- do values.append(value.strip()) -%}
        {%- endfor -%}
        {%- do clauses.append((parts[0].strip(), op, values)) -%}
    {%- endfor -%}
    {{ return(clauses) }}
{%- endmacro %}


{#- The SQL predicate of a measure's filter (columns checked against the registry first). -#}
{% macro plan_filter_sql(text, alias, skip_column=none) -%}
    {%- set predicates = [] -%}
    {%- for column, op, values in plan_parse_filter(text) if column != skip_column -%}
        {%- set quoted = [] -%}
        {%- for value in values -%}
            {%- do quoted.append("'" ~ value | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
        {%- do predicates.append('cast(' ~ alias ~ '."' ~ column ~ '" as varchar) ' ~ ('not in' if op == '!=' else 'in') ~ ' (' ~ quoted | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ return(predicates | join(' and ') if predicates else 'true') }}
{%- endmacro %}


{#- The rules ingest/measures.py applies, again, on the seed as loaded: one message per problem. -#}
{#- `objective_ids`: the ids of seeds/plan_objectives.csv, when known (a measure must serve one). -#}
{% macro plan_measure_problems(rows, objective_ids=none) -%}
    {%- set statistics = {
        'count': ['count'], 'rate_per_1000_population': ['per_1000_residents'], 'proportion': ['percent'],
        'ratio': ['percent', 'ratio'], 'total': ['count', 'gbp'], 'disproportionality': ['ratio']} -%}
    {%- set grains = {'monthly': 'month', 'quarterly': 'quarter', 'annual': 'year'} -%}
    {%- set marts = var('plan_measure_marts', {}) -%}
    {%- set problems = [] -%}
    {%- set seen = {} -%}
    {%- for row in rows -%}
        {%- set where = 'seeds/plan_measures.csv line ' ~ row.source_line ~ ': measure ' ~ (row.measure_id or '?') ~ ': ' -%}
        {%- if row.measure_id in seen -%}
            {%- do problems.append(where ~ 'measure_id is already used on line ' ~ seen[row.measure_id]) -%}
        {%- else -%}
            {%- do seen.update({row.measure_id: row.source_line}) -%}
        {%- endif -%}
        {%- if objective_ids is not none and row.objective_id not in objective_ids -%}
            {%- do problems.append(where ~ "unknown objective_id '" ~ row.objective_id ~ "' (seeds/plan_objectives.csv has: " ~ objective_ids | join(', ') ~ ")") -%}
        {%- endif -%}
        {%- if row.polarity not in ['lower_is_better', 'higher_is_better', 'neutral'] -%}
            {%- do problems.append(where ~ "unknown polarity '" ~ row.polarity ~ "' (expected lower_is_better, higher_is_better or neutral)") -%}
        {%- endif -%}
        {%- if row.statistic not in statistics -%}
            {%- do problems.append(where ~ "unknown statistic '" ~ row.statistic ~ "'") -%}
        {%- elif row.unit not in statistics[row.statistic] -%}
            {%- do problems.append(where ~ "unit '" ~ row.unit ~ "' does not fit statistic '" ~ row.statistic ~ "'") -%}
        {%- endif -%}
        {%- if row.frequency not in grains -%}
            {%- do problems.append(where ~ "unknown frequency '" ~ row.frequency ~ "'") -%}
        {%- endif -%}
        {%- if row.baseline_rule not in ['same_period_last_year', 'mean_previous_3_years', 'previous_period'] -%}
            {%- do problems.append(where ~ "unknown baseline_rule '" ~ row.baseline_rule ~ "'") -%}
        {%- endif -%}
        {%- if row.comparator not in ['none', 'msg'] -%}
            {%- do problems.append(where ~ "unknown comparator '" ~ row.comparator ~ "'") -%}
        {%- endif -%}
        {%- for geography in (row.geography or '').split('|') if geography not in ['force', 'csp'] -%}
            {%- do problems.append(where ~ "unknown geography '" ~ geography ~ "'") -%}
        {%- endfor -%}
        {%- if row.mart -%}
            {%- if row.mart not in marts -%}
                {%- do problems.append(where ~ "unknown mart '" ~ row.mart ~ "' (known: " ~ marts.keys() | join(', ') ~ ")") -%}
            {%- else -%}
                {%- set mart = marts[row.mart] -%}
                {%- if grains.get(row.frequency) and grains[row.frequency] != mart.grain -%}
                    {%- do problems.append(where ~ "frequency '" ~ row.frequency ~ "' does not match " ~ row.mart ~ ", which is by " ~ mart.grain) -%}
                {%- endif -%}
                {%- for key in ['numerator', 'denominator'] -%}
                    {%- set column = row[key] -%}
                    {%- if column and column != 'rows' and column not in mart.columns -%}
                        {%- do problems.append(where ~ "unknown " ~ key ~ " column '" ~ column ~ "' in " ~ row.mart) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- if not row.numerator -%}
                    {%- do problems.append(where ~ "numerator is empty") -%}
                {%- endif -%}
                {%- if row.statistic in ['proportion', 'ratio'] and not row.denominator -%}
                    {%- do problems.append(where ~ "a " ~ row.statistic ~ " needs a denominator column") -%}
                {%- endif -%}
                {%- for column, op, values in plan_parse_filter(row.filter) -%}
                    {%- if column not in mart.columns -%}
                        {%- do problems.append(where ~ "unknown filter column '" ~ column ~ "' in " ~ row.mart) -%}
                    {%- elif not values -%}
                        {%- do problems.append(where ~ "filter on '" ~ column ~ "' has no values") -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- if 'csp' in (row.geography or '').split('|') and not (mart.get('csp') or mart.get('lsoa')) -%}
                    {%- do problems.append(where ~ "geography csp: " ~ row.mart ~ " has no CSP or LSOA column") -%}
                {%- endif -%}
            {%- endif -%}
        {%- elif not row.data_gap_reason -%}
            {%- do problems.append(where ~ "no mart: say why in data_gap_reason") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(problems) }}
{%- endmacro %}


{#- Refuse a plan with problems, naming every line (called where the plan is first read). -#}
{% macro plan_measures_check() -%}
    {%- set objectives, version = ref('plan_objectives'), ref('plan_version') -%}
    {%- if execute -%}
        {%- set objective_ids = run_query('select objective_id from ' ~ objectives ~ ' order by objective_order').columns[0].values() | list -%}
        {%- set versions = run_query('select count(*) from ' ~ version).columns[0].values()[0] -%}
        {%- set problems = plan_measure_problems(plan_measure_rows(), objective_ids) -%}
        {%- if versions != 1 -%}
            {%- do problems.append('seeds/plan_version.csv: ' ~ versions ~ ' rows, expected one (the plan the measures belong to)') -%}
        {%- endif -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error("The plan's measures cannot be built:\n  " ~ problems | join('\n  ') ~ "\nFix seeds/plan_measures.csv, plan_objectives.csv or plan_version.csv (python -m ingest.measures check lists the same problems).") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Calendar quarter label of a date expression: 2025Q3. -#}
{% macro quarter_label(date_expression) -%}
    (cast(year({{ date_expression }}) as varchar) || 'Q' || cast(quarter({{ date_expression }}) as varchar))
{%- endmacro %}


{#- A mart's period as a date: its period column, or, for a year number (year_start_month set),
    the first day of the year starting in that month (4: financial years, 2025 -> 2025-04-01). -#}
{% macro plan_period_sql(entry, alias=none) -%}
    {%- set column = (alias ~ '.' if alias else '') ~ '"' ~ entry.period ~ '"' -%}
    {%- if entry.get('year_start_month') -%}
        make_date(cast({{ column }} as integer), {{ entry.year_start_month | int }}, 1)
    {%- else -%}
        cast({{ column }} as date)
    {%- endif -%}
{%- endmacro %}
