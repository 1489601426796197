{#
  A Nomis census column header reduced to its category: the 2011 bulk files write
  'Ethnic Group: White: Irish; measures: Value', the 2021 ones 'Ethnic group: White: Irish'
  or 'Sex: Female; measures: Value'; both become 'White: Irish' / 'Female'.
  variable_pattern: a regular expression for the variable's name ('sex', 'ethnic\s+group').
#}
{% macro nomis_category_label(column, variable_pattern) -%}
    trim(regexp_replace(
        regexp_replace({{ column }}, '^\s*{{ variable_pattern }}:\s*', '', 'i'),
        ';\s*measures:\s*value\s*$', '', 'i'
    ))
{%- endmacro %}
