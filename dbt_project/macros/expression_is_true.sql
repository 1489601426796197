{#-
    Row rule: every row satisfies `expression` (a SQL boolean over the model's columns).
    Usable on a model or under a column (there the column is only for documentation:
    the expression names what it checks). Fails with the rows that break it. A NULL
    result counts as a failure, so write `x is null or x between 0 and 1` when NULL is
    allowed.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
