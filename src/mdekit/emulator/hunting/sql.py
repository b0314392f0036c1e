"""SQL building blocks shared by every compiler module: quoting, compiled expressions, relations.

The engine is DuckDB. Two of its rules shape this module: identifiers bind case-insensitively even
when quoted (KQL column names are case-sensitive, so every column carries its own SQL name, made
unique ignoring case), and ``/`` on integers is a real division (KQL's is integral).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "NO_CONST",
    "SQL_TYPE",
    "Column",
    "E",
    "Rel",
    "iso_datetime",
    "lit",
    "quote_ident",
    "quote_str",
    "unique_name",
]

#: KQL type -> DuckDB storage type (datetimes/timespans are integer microseconds, dynamic is JSON text).
SQL_TYPE = {
    "datetime": "BIGINT",
    "timespan": "BIGINT",
    "long": "BIGINT",
    "int": "INTEGER",
    "real": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "dynamic": "VARCHAR",
    "guid": "VARCHAR",
    "null": "VARCHAR",
}
NO_CONST = object()


def quote_ident(name: str) -> str:
    """A SQL identifier (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    """A SQL string literal (single quotes doubled; backslashes are plain characters in DuckDB)."""
    return "'" + text.replace("'", "''") + "'"


def unique_name(name: str, taken: set[str]) -> str:
    """*name*, or *name* with the smallest numeric suffix not in *taken* (KQL's ``DeviceId1``)."""
    if name not in taken:
        return name
    n = 1
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"


@dataclass(frozen=True)
class E:
    """A compiled expression: SQL text, KQL type, and extras that allow simpler SQL."""

    sql: str
    type: str
    const: Any = NO_CONST  # the Python value when the expression is a literal
    json: tuple[str, str] | None = None  # (base SQL, JSON path) for dynamic member chains

    @property
    def is_const(self) -> bool:
        """True for literals (their value is known at compile time)."""
        return self.const is not NO_CONST


def lit(value: Any, kql_type: str) -> E:
    """A literal of *kql_type* (``None`` is a typed NULL)."""
    if value is None:
        return E(f"CAST(NULL AS {SQL_TYPE.get(kql_type, 'VARCHAR')})", kql_type, None)
    if kql_type == "string":
        return E(quote_str(value), kql_type, value)
    if kql_type == "bool":
        return E("TRUE" if value else "FALSE", kql_type, bool(value))
    if kql_type == "dynamic":
        text = json.dumps(value, separators=(",", ":"))
        return E(quote_str(text), kql_type, value)
    if kql_type == "real":
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return E(f"CAST('{f}' AS DOUBLE)", kql_type, f)
        return E(f"CAST({f!r} AS DOUBLE)", kql_type, f)
    return E(
        f"CAST({int(value)} AS BIGINT)" if abs(int(value)) > 2**31 else str(int(value)), kql_type, int(value)
    )


def iso_datetime(us_sql: str) -> str:
    """SQL of a datetime (integer microseconds) as the API writes it: ``2024-01-02T03:04:05.1234560Z``."""
    return f"(strftime(make_timestamp({us_sql}), '%Y-%m-%dT%H:%M:%S.%f') || '0Z')"


@dataclass(frozen=True)
class Column:
    """An output column: KQL name, KQL type and the SQL name it has in the relation's SELECT."""

    name: str
    type: str
    sql: str = ""

    @property
    def ident(self) -> str:
        """The quoted SQL identifier."""
        return quote_ident(self.sql or self.name)


@dataclass(frozen=True)
class Rel:
    """A compiled tabular expression: a SELECT and its columns, in order."""

    sql: str
    cols: list[Column]

    def types(self) -> dict[str, str]:
        """Column name -> KQL type."""
        return {c.name: c.type for c in self.cols}

    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.cols]

    def col(self, name: str) -> Column | None:
        """The column called *name* (case-sensitive, as in KQL), or ``None``."""
        return next((c for c in self.cols if c.name == name), None)

    def select_list(self, alias: str = "") -> str:
        """``"a", "b"`` (or ``alias."a", ...``) of every column, under its SQL name."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + c.ident for c in self.cols)


class Namer:
    """Gives columns SQL names that stay unique when compared without case (DuckDB's binding rule)."""

    def __init__(self, taken: list[Column] | None = None) -> None:
        self._used = {(c.sql or c.name).lower() for c in taken or []}

    def column(self, name: str, kql_type: str) -> Column:
        """A new column named *name* with a SQL name no other column of this SELECT has."""
        sql = name
        n = 1
        while sql.lower() in self._used:
            sql = f"{name}__{n}"
            n += 1
        self._used.add(sql.lower())
        return Column(name, kql_type, sql)


def renamed(cols: list[Column]) -> list[Column]:
    """*cols* with fresh SQL names for a SELECT that lists them again (``SELECT a AS "a"``)."""
    namer = Namer()
    return [namer.column(c.name, c.type) for c in cols]


def reselect(rel: Rel, cols: list[Column], alias: str = "_t") -> Rel:
    """``SELECT`` of *cols* (columns of *rel*, in a new order or subset) from *rel*."""
    out = renamed(cols)
    items = ", ".join(f"{alias}.{c.ident} AS {o.ident}" for c, o in zip(cols, out, strict=True))
    return Rel(f"SELECT {items} FROM ({rel.sql}) AS {alias}", out)
