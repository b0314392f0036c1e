"""The DeviceTvm* hunting tables, loaded from the TVM store's own rows.

The rows come from :func:`mdekit.emulator.defender.tvm.hunting.tvm_hunting_rows`, the source the
TVM API and its exports read too, so a hunt and ``GET /api/vulnerabilities/machinesVulnerabilities``
cannot disagree. Here they only change form: datetimes become microseconds, ``dynamic`` values JSON
text, and a missing string ``''`` (KQL strings are never null).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from mdekit.emulator.defender.tvm.hunting import (
    TVM_HUNTING_TABLES,
    secure_configuration_kb_rows,
    software_vulnerability_kb_rows,
    tvm_hunting_rows,
)
from mdekit.emulator.hunting.data.world import World, load_rows
from mdekit.emulator.hunting.tables import sql_type

__all__ = ["TVM_BUILDERS", "storage_row"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: Tables whose rows do not depend on the tenant (the knowledge bases).
_GLOBAL: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
    "DeviceTvmSoftwareVulnerabilitiesKB": software_vulnerability_kb_rows,
    "DeviceTvmSecureConfigurationAssessmentKB": secure_configuration_kb_rows,
}


def storage_row(row: dict[str, Any], columns: list[tuple[str, str]]) -> tuple[Any, ...]:
    """One TVM row (plain Python values) in the engine's storage form, in *columns*' order."""
    out: list[Any] = []
    for name, kind in columns:
        value = row.get(name)
        if value is None:
            out.append("" if kind == "string" else None)
        elif kind == "datetime":
            out.append((value.astimezone(UTC) - _EPOCH) // _US)
        elif kind == "dynamic":
            out.append(orjson.dumps(value).decode())
        else:
            out.append(value)
    return tuple(out)


def _rows(world: World, table: str) -> Iterator[dict[str, Any]]:
    if table in _GLOBAL:
        return _GLOBAL[table]()
    store = getattr(getattr(world.sources, "defender", None), "tvm", None)
    if store is None:  # a Defender store without TVM: no software known
        return iter(())
    return tvm_hunting_rows(store, world.tenant, table)


def _builder(table: str) -> Callable[[Any, World], None]:
    columns = TVM_HUNTING_TABLES[table]

    def build(conn: Any, world: World) -> None:
        rows = (storage_row(r, columns) for r in _rows(world, table))
        load_rows(conn, table, [(c, sql_type(k)) for c, k in columns], rows)

    build.__doc__ = f"Load ``{table}`` from the TVM store."
    return build


#: Table name -> builder(conn, world), for every table the TVM module defines.
TVM_BUILDERS: dict[str, Callable[[Any, World], None]] = {t: _builder(t) for t in TVM_HUNTING_TABLES}
