"""Run a KQL query on a DuckDB database holding the hunting tables.

``run_query`` = parse -> compile -> build the tables the query reads (lazily, see
:mod:`.store`) -> execute -> convert values to the API's JSON forms (datetimes as ISO strings with
7 fractional digits and ``Z``, bools as JSON booleans, dynamic as JSON).

A query runs under a time budget: a timer interrupts DuckDB when it expires (the service's own
limit, 200 s for one request), so no query can hold a worker for longer.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mdekit.emulator.hunting.compiler import compile_query
from mdekit.emulator.hunting.errors import KqlError, KqlLimitError, KqlSemanticError
from mdekit.emulator.hunting.parser import parse
from mdekit.emulator.hunting.sources import ExternalRows
from mdekit.emulator.hunting.sql import Column, Rel, iso_datetime, quote_ident
from mdekit.emulator.hunting.tables import HIDDEN_TABLES, SCHEMA_TYPE, TABLES

__all__ = [
    "RESULT_SIZE_MESSAGE",
    "TIMEOUT_MESSAGE",
    "WINDOW_US",
    "Limits",
    "QueryResult",
    "compile_kql",
    "run_query",
    "table_resolver",
]

RESULT_SIZE_MESSAGE = (
    "Query execution has exceeded the allowed result size. "
    "Optimize your query by limiting the number of results and try again"
)
#: The timeout error of advanced hunting (defender-xdr/advanced-hunting-errors.md).
TIMEOUT_MESSAGE = "Query exceeded the timeout period."
#: The excessive-resource error of advanced hunting (same page).
RESOURCES_MESSAGE = "Query stopped due to excessive resource consumption."
WINDOW_US = 30 * 86_400_000_000


@dataclass(frozen=True)
class Limits:
    """The service's documented query limits (tests shrink them).

    MDE API (run-advanced-query-api, ms.date 08/18/2025): 100,000 rows, 124 MB, 200 s per request,
    10 minutes of running time per hour and 3 hours per day per tenant. ``max_query_chars`` is the
    emulator's own bound (no limit on the query text is documented; UNVERIFIED).
    """

    max_rows: int = 100_000
    max_result_bytes: int = 124 * 1024 * 1024
    max_seconds: float = 200.0
    cpu_seconds_per_hour: float = 600.0
    cpu_seconds_per_day: float = 3 * 3600.0
    max_query_chars: int = 1_000_000


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


def table_resolver(start_us: int | None, end_us: int | None) -> Callable[[str], Rel | None]:
    """Table name -> its SELECT, keeping only rows inside the visible window (the last 30 days)."""

    def resolve(name: str) -> Rel | None:
        hidden = name.startswith("__")
        cols = HIDDEN_TABLES.get(name[2:]) if hidden else TABLES.get(name)
        if cols is None:
            return None
        conds = []
        # Snapshot tables (the DeviceTvm* ones) have no Timestamp: all their rows are current.
        timed = not hidden and any(c == "Timestamp" for c, _ in cols)
        if timed and start_us is not None:
            conds.append(f'"Timestamp" >= {int(start_us)}')
        if timed and end_us is not None:
            conds.append(f'"Timestamp" <= {int(end_us)}')
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return Rel(f"SELECT * FROM {quote_ident(name)}{where}", [Column(c, t, c) for c, t in cols])

    return resolve


def compile_kql(
    text: str,
    now_us: int,
    window: tuple[int | None, int | None] | None = None,
    probe: Callable[[str, set[str]], list[tuple[Any, ...]]] | None = None,
    external: ExternalRows | None = None,
) -> tuple[Rel, set[str]]:
    """Parse and compile *text*; tables show rows from ``window`` (default: the last 30 days)."""
    start, end = window if window is not None else (now_us - WINDOW_US, now_us)
    try:
        return compile_query(parse(text), table_resolver(start, end), list(TABLES), now_us, probe, external)
    except RecursionError:
        raise KqlSemanticError("The query is nested too deeply: simplify it") from None


def _dynamic(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            try:
                return json.loads(value)  # NaN, Infinity
            except ValueError:
                return value
    return value


class _Watchdog:
    """One thread that interrupts queries whose time budget ran out (no thread per query)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, _Budget]] = []  # a heap by deadline
        self._seq = 0
        self._thread: threading.Thread | None = None

    def watch(self, budget: _Budget, seconds: float) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + seconds, self._seq, budget))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mdekit-hunting-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._due and self._due[0][2].done:
                    heapq.heappop(self._due)
                if not self._due:
                    self._cond.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                budget = heapq.heappop(self._due)[2]
                budget.fire()


_WATCHDOG = _Watchdog()


class _Budget:
    """Interrupts the connection when the query's time budget runs out."""

    def __init__(self, conn: Any, seconds: float) -> None:
        self.expired = False
        self.done = False
        self._conn = conn
        self._seconds = seconds

    def fire(self) -> None:
        if not self.done:
            self.expired = True
            self._conn.interrupt()

    def __enter__(self) -> _Budget:
        _WATCHDOG.watch(self, self._seconds)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done = True  # the watchdog drops it (under its lock, so no interrupt comes after)
        with _WATCHDOG._cond:
            pass


def run_query(
    conn: Any,
    text: str,
    now_us: int,
    *,
    window: tuple[int | None, int | None] | None = None,
    limits: Limits = Limits(),
    ensure: Callable[[set[str]], None] = lambda _names: None,
    external: ExternalRows | None = None,
    started: float | None = None,
) -> QueryResult:
    """Run KQL *text* on the DuckDB connection *conn* (with the ``kql_*`` functions registered).

    *ensure* builds the named tables before they are read (the store's lazy build).
    """
    started = time.perf_counter() if started is None else started
    if len(text) > limits.max_query_chars:
        raise KqlLimitError(
            f"The query is too long: {len(text):,} characters, the limit is {limits.max_query_chars:,}"
        )

    def probe(sql: str, names: set[str]) -> list[tuple[Any, ...]]:
        ensure(names)
        return _execute(conn, sql, limits, started, 1000)

    rel, used = compile_kql(text, now_us, window, probe, external)
    ensure(used)
    out = ", ".join(_output(c) for c in rel.cols) or "*"
    final = f"SELECT {out} FROM ({rel.sql}) AS _q LIMIT {limits.max_rows + 1}"
    raw = _execute(conn, final, limits, started, None)
    truncated = len(raw) > limits.max_rows
    rows = _convert(rel.cols, raw[: limits.max_rows])
    size = len(orjson.dumps(rows, default=str))
    if size > limits.max_result_bytes:
        raise KqlLimitError(RESULT_SIZE_MESSAGE)
    return QueryResult(rel.cols, rows, _stats(time.perf_counter() - started, len(rows), size), truncated)


def _execute(conn: Any, sql: str, limits: Limits, started: float, cap: int | None) -> list[tuple[Any, ...]]:
    import duckdb

    remaining = limits.max_seconds - (time.perf_counter() - started)
    if remaining <= 0:
        raise KqlLimitError(TIMEOUT_MESSAGE)
    with _Budget(conn, remaining) as budget:
        try:
            cursor = conn.execute(sql)
            return list(cursor.fetchmany(cap) if cap else cursor.fetchall())
        except duckdb.InterruptException:
            raise KqlLimitError(TIMEOUT_MESSAGE) from None
        except duckdb.OutOfMemoryException:
            raise KqlLimitError(RESOURCES_MESSAGE) from None
        except duckdb.Error as exc:
            if budget.expired:
                raise KqlLimitError(TIMEOUT_MESSAGE) from None
            raise KqlError(f"Query execution failed: {_clean(exc)}") from None
        except RecursionError:
            raise KqlSemanticError("The query is nested too deeply: simplify it") from None


def _clean(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return text.replace("__", "").strip()[:300]


def _output(col: Column) -> str:
    """A result column as the API shows it, formatted by the engine (vectorized, not per value in
    Python): datetimes as ``2024-01-02T03:04:05.1234560Z``, timespans as ``[d.]hh:mm:ss[.fffffff]``,
    strings never null, numbers as JSON numbers."""
    c = col.ident
    if col.type == "datetime":
        return f"{iso_datetime(c)} AS {c}"
    if col.type == "timespan":
        return f"kql_ts_str({c}) AS {c}"
    if col.type == "string":
        return f"coalesce(CAST({c} AS VARCHAR), '') AS {c}"
    if col.type == "real":
        return f"CAST({c} AS DOUBLE) AS {c}"
    if col.type in ("long", "int"):
        return f"CAST({c} AS BIGINT) AS {c}"
    if col.type == "bool":
        return f"CAST({c} AS BOOLEAN) AS {c}"
    return c


def _convert(cols: list[Column], raw: list[Any]) -> list[dict[str, Any]]:
    names = [c.name for c in cols]
    dynamic = [k for k, c in enumerate(cols) if c.type not in _FORMATTED]
    if not dynamic:
        return [dict(zip(names, row, strict=True)) for row in raw]
    out = []
    for row in raw:
        values = list(row)
        for k in dynamic:
            values[k] = _dynamic(values[k])
        out.append(dict(zip(names, values, strict=True)))
    return out


_FORMATTED = frozenset({"datetime", "timespan", "string", "real", "long", "int", "bool"})


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
