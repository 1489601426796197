"""The raw layer: how a publisher's file becomes rows of ``raw.<table>``, or is refused.

    gate/      the data-quality gate: each table's GX suite, evaluated in DuckDB
"""
