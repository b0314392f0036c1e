"""``mde sync``: keep a database current with Defender, exactly once (issue 20).

:class:`~mdekit.sync.engine.Syncer` runs passes over :class:`~mdekit.sync.source.Source` s (one
Defender client per tenant) into a sink (:func:`~mdekit.sync.sinks.open_sink`): SQLite, DuckDB,
PostgreSQL, rolling NDJSON or Parquet files. Several workers share tenants through PostgreSQL
leases (:mod:`mdekit.sync.leases`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdekit.sync.engine import Syncer
    from mdekit.sync.entities import ENTITIES, Entity
    from mdekit.sync.sinks import open_sink
    from mdekit.sync.source import Source

__all__ = ["ENTITIES", "Entity", "Source", "Syncer", "open_sink"]

_HOMES = {
    "Syncer": "mdekit.sync.engine",
    "ENTITIES": "mdekit.sync.entities",
    "Entity": "mdekit.sync.entities",
    "open_sink": "mdekit.sync.sinks",
    "Source": "mdekit.sync.source",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(name)
