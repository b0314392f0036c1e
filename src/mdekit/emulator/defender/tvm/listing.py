"""OData ``$filter``/``$orderby``/``$top``/``$skip``/``$count`` over a small computed list.

The TVM lists are aggregates computed per request (a few dozen items). Rather than a second
filter implementation, the items are loaded into a throwaway in-memory SQLite table and the
emulator's one ``$filter`` compiler (:mod:`mdekit.emulator.defender.odata`) runs on it, so these
lists accept exactly what every other list accepts, with the same errors.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.defender.listing import PAGE_SIZE, ListQuery, order_sql
from mdekit.emulator.defender.odata import Field

__all__ = ["fields_of", "filter_items"]

_KINDS = {
    "Edm.String": "str",
    "Edm.Guid": "str",
    "Edm.Int32": "int",
    "Edm.Int64": "int",
    "Edm.Double": "float",
    "Edm.Boolean": "bool",
    "Edm.DateTimeOffset": "datetime",
    "Collection(Edm.String)": "tags",
}


def fields_of(names_and_types: Sequence[tuple[str, str]]) -> dict[str, Field]:
    """Every primitive property (and string collection) of a type as a filterable field.

    For the small collections whose documentation names no ``$filter`` properties (a machine's
    logon users, software, ...): accepting any property is the lenient choice (UNVERIFIED).
    """
    return {name: Field(name, _KINDS[t]) for name, t in names_and_types if t in _KINDS}


def _stored(f: Field, value: Any) -> Any:
    if value is None:
        return None
    if f.kind == "bool":
        return 1 if value else 0
    if f.kind == "datetime":
        return format_odata_time(parse_time(str(value)))  # the compiler's literal form
    if f.kind == "tags":
        return json.dumps(list(value))  # a JSON array, as the stored lists' tag columns
    return value


def filter_items(
    items: Sequence[Mapping[str, Any]],
    fields: dict[str, Field],
    query: ListQuery,
    *,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Mapping[str, Any]], bool]:
    """The page of *items* matching *query* (in their order, or ``$orderby``'s), and whether more
    follow; ``query.total`` is set when ``$count`` was asked.

    *fields* maps each filterable property to a :class:`Field` whose ``column`` is a plain
    identifier; the property's value is read from the item under the property's name.
    """
    if not query.where and not query.order:
        matching: Sequence[Mapping[str, Any]] = items
    else:
        matching = [items[i] for i in _matching(items, fields, query)]
    if query.count:
        query.total = len(matching)
    window = matching[query.skip :]
    if query.top is not None:
        return list(window[: query.top]), False
    return list(window[:page_size]), len(window) > page_size


def _matching(items: Sequence[Mapping[str, Any]], fields: dict[str, Field], query: ListQuery) -> list[int]:
    """Indexes of the *items* matching ``query.where``, in ``query.order``'s order."""
    conn = sqlite3.connect(":memory:")
    try:
        decl = ", ".join(
            f'"{f.column}" {"REAL" if f.kind in ("int", "float", "bool") else "TEXT COLLATE NOCASE"}'
            for f in fields.values()
        )
        conn.execute(f"CREATE TABLE t (i INTEGER PRIMARY KEY{', ' if decl else ''}{decl})")
        marks = ", ".join("?" for _ in range(len(fields) + 1))
        conn.executemany(
            f"INSERT INTO t VALUES ({marks})",
            [
                (i, *(_stored(f, item.get(name)) for name, f in fields.items()))
                for i, item in enumerate(items)
            ],
        )
        where = f"WHERE {query.where}" if query.where else ""
        rows = conn.execute(f"SELECT i FROM t {where} ORDER BY {order_sql(query, 'i')}", query.params)
        return [r[0] for r in rows.fetchall()]
    finally:
        conn.close()
