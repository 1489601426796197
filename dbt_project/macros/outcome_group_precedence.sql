{#-
    How far an investigation got, for choosing one outcome when a crime has several
    with equal standing (two events in the same month; a crime id repeated in a
    street file): a charge or summons outranks an out-of-court disposal, which
    outranks no further action, then other, then pending. Lower is further.
-#}
{% macro outcome_group_precedence(outcome_group) -%}
    case {{ outcome_group }}
        when 'charged_or_summonsed' then 1
        when 'out_of_court' then 2
        when 'no_further_action' then 3
        when 'other' then 4
        when 'pending' then 5
        else 6
    end
{%- endmacro %}
