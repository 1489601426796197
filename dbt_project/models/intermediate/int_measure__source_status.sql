-- One row per relation the measures may read (vars.plan_measure_marts and plan_measure_lookups):
-- whether it can be read now and, if not, why. Available relations are ref()'d (macros/plan_measures.sql),
-- so everything downstream builds after them; planned ones are looked up as the model runs.
with

source_status as (

    {{ plan_source_status_sql() }}

)

select * from source_status
