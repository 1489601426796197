"""One module per source. Each exposes the same small surface (what is there for a period,
fetch to landing, load to raw) and ``ensure_raw_tables(con)``, which creates its raw tables
empty so that ``dbt build`` can run before every source has loaded once."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def ensure_all_raw_tables(con: "duckdb.DuckDBPyConnection") -> list[str]:
    """Create every source's raw tables that do not exist yet; return the sources visited."""
    from ingest.warehouse import SHARED_RAW_DDL

    con.execute(SHARED_RAW_DDL)
    visited = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        ensure = getattr(module, "ensure_raw_tables", None)
        if callable(ensure):
            ensure(con)
            visited.append(module_info.name)
    return visited
