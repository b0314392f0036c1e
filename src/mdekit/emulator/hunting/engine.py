"""Run a KQL query on a SQLite connection holding the hunting tables.

``run_query`` = parse -> compile -> execute -> convert values to the API's JSON forms (datetimes
as ISO strings with 7 fractional digits and ``Z``, bools as JSON booleans, dynamic as JSON).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mdekit.emulator.hunting.compiler import Column, Rel, compile_query
from mdekit.emulator.hunting.errors import KqlError, KqlLimitError
from mdekit.emulator.hunting.parser import parse
from mdekit.emulator.hunting.scalars import quote_ident
from mdekit.emulator.hunting.tables import SCHEMA_TYPE, TABLES
from mdekit.emulator.hunting.udfs import format_timespan, us_to_iso

__all__ = ["RESULT_SIZE_MESSAGE", "Limits", "QueryResult", "compile_kql", "run_query", "table_resolver"]

RESULT_SIZE_MESSAGE = (
    "Query execution has exceeded the allowed result size. "
    "Optimize your query by limiting the number of results and try again"
)
WINDOW_US = 30 * 86_400_000_000


@dataclass(frozen=True)
class Limits:
    """The service's documented query limits (tests shrink them)."""

    max_rows: int = 100_000
    max_result_bytes: int = 124 * 1024 * 1024
    max_seconds: float = 200.0
    cpu_seconds_per_hour: float = 600.0
    cpu_seconds_per_day: float = 3 * 3600.0


@dataclass
class QueryResult:
    """Columns (name, KQL type), rows as dicts keyed by column name, and the ``Stats`` object."""

    columns: list[Column]
    rows: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False

    def schema(self, name_key: str = "Name", type_key: str = "Type") -> list[dict[str, str]]:
        """``[{"Name": ..., "Type": ...}]`` (Graph spells the keys ``name``/``type``)."""
        return [{name_key: c.name, type_key: SCHEMA_TYPE.get(c.type, "Object")} for c in self.columns]


def table_resolver(window_start_us: int | None, now_us: int | None) -> Callable[[str], Rel | None]:
    """Table name -> its SELECT, keeping only rows inside the visible window (the last 30 days)."""

    def resolve(name: str) -> Rel | None:
        cols = TABLES.get(name)
        if cols is None:
            return None
        conds = []
        if window_start_us is not None:
            conds.append(f'"Timestamp" >= {int(window_start_us)}')
        if now_us is not None:
            conds.append(f'"Timestamp" <= {int(now_us)}')
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return Rel(f"SELECT * FROM {quote_ident(name)}{where}", [Column(c, t) for c, t in cols])

    return resolve


def compile_kql(text: str, now_us: int, window_us: int | None = WINDOW_US) -> Rel:
    """Parse and compile *text*; tables show rows from ``now - window`` to ``now``."""
    start = None if window_us is None else now_us - window_us
    return compile_query(parse(text), table_resolver(start, now_us), now_us)


def _converter(ktype: str) -> Callable[[Any], Any]:
    if ktype == "datetime":
        return us_to_iso
    if ktype == "timespan":
        return format_timespan
    if ktype == "bool":
        return lambda v: None if v is None else bool(v)
    if ktype in ("long", "int"):
        return lambda v: None if v is None else int(v)
    if ktype == "real":
        return lambda v: None if v is None else float(v)
    if ktype == "string":
        return lambda v: "" if v is None else str(v)
    return _dynamic


def _dynamic(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def run_query(
    conn: sqlite3.Connection,
    text: str,
    now_us: int,
    *,
    window_us: int | None = WINDOW_US,
    limits: Limits = Limits(),
) -> QueryResult:
    """Run KQL *text* on *conn* (which must have the ``kql_*`` functions registered)."""
    started = time.perf_counter()
    rel = compile_kql(text, now_us, window_us)
    deadline = time.monotonic() + limits.max_seconds
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    try:
        cursor = conn.execute(f"SELECT * FROM ({rel.sql}) AS _q LIMIT {limits.max_rows + 1}")
        raw = cursor.fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise KqlLimitError("Query exceeded the allowed execution time of the request") from None
        raise KqlError(f"Query execution failed: {exc}") from None
    except (sqlite3.Error, ValueError) as exc:
        raise KqlError(f"Query execution failed: {exc}") from None
    finally:
        conn.set_progress_handler(None, 0)
    truncated = len(raw) > limits.max_rows
    rows = _convert(rel.cols, raw[: limits.max_rows])
    size = len(json.dumps(rows, separators=(",", ":")))
    if size > limits.max_result_bytes:
        raise KqlLimitError(RESULT_SIZE_MESSAGE)
    return QueryResult(rel.cols, rows, _stats(time.perf_counter() - started, len(rows), size), truncated)


def _convert(cols: list[Column], raw: list[Any]) -> list[dict[str, Any]]:
    convs = [(c.name, _converter(c.type)) for c in cols]
    return [{name: conv(value) for (name, conv), value in zip(convs, row, strict=True)} for row in raw]


def _stats(seconds: float, rows: int, size: int) -> dict[str, Any]:
    cpu = f"00:00:{seconds:010.7f}"
    return {
        "ExecutionTime": round(seconds, 7),
        "resource_usage": {
            "cache": {
                "memory": {"hits": 0, "misses": 0, "total": 0},
                "disk": {"hits": 0, "misses": 0, "total": 0},
            },
            "cpu": {"user": cpu, "kernel": "00:00:00", "total cpu": cpu},
            "memory": {"peak_per_node": 0},
        },
        "dataset_statistics": [{"table_row_count": rows, "table_size": size}],
    }
