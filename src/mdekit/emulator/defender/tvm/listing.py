"""OData ``$filter``/``$top``/``$skip`` over a small computed list (software, recommendations, ...).

The TVM lists are aggregates computed per request (a few dozen items). Rather than a second
filter implementation, the items are loaded into a throwaway in-memory SQLite table and the
emulator's one ``$filter`` compiler (:mod:`mdekit.emulator.defender.odata`) runs on it, so these
lists accept exactly what every other list accepts, with the same errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.defender.listing import PAGE_SIZE, ListQuery
from mdekit.emulator.defender.odata import Field

__all__ = ["filter_items"]


def _stored(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return 1 if value else 0
    if kind == "datetime":
        return format_odata_time(parse_time(str(value)))  # the compiler's literal form
    return value


def filter_items(
    items: Sequence[Mapping[str, Any]],
    fields: dict[str, Field],
    query: ListQuery,
    *,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Mapping[str, Any]], bool]:
    """The page of *items* matching *query* (in their order), and whether more follow.

    *fields* maps each filterable property to a :class:`Field` whose ``column`` is a plain
    identifier; the property's value is read from the item under the property's name.
    """
    if not query.where:
        window = items[query.skip :]
    else:
        conn = sqlite3.connect(":memory:")
        try:
            columns = {name: f for name, f in fields.items()}
            decl = ", ".join(
                f'"{f.column}" {"REAL" if f.kind in ("int", "float", "bool") else "TEXT COLLATE NOCASE"}'
                for f in columns.values()
            )
            conn.execute(f"CREATE TABLE t (i INTEGER PRIMARY KEY, {decl})")
            marks = ", ".join("?" for _ in range(len(columns) + 1))
            conn.executemany(
                f"INSERT INTO t VALUES ({marks})",
                [
                    (i, *(_stored(f.kind, item.get(name)) for name, f in columns.items()))
                    for i, item in enumerate(items)
                ],
            )
            rows = conn.execute(f"SELECT i FROM t WHERE {query.where} ORDER BY i", query.params).fetchall()
        finally:
            conn.close()
        window = [items[r[0]] for r in rows][query.skip :]
    if query.top is not None:
        return list(window[: query.top]), False
    return list(window[:page_size]), len(window) > page_size
