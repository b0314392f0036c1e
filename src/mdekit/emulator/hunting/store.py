"""Per-tenant hunting data: one in-memory DuckDB database per tenant, each table built on first use.

Kept apart from the emulator's main database on purpose: hunting data is derived (regenerated from
the tenant's machines and alerts when they change) and queries never hold the main lock.

Lazy and incremental: a query builds only the tables it reads (``DeviceProcessEvents`` alone for
``DeviceProcessEvents | take 10``), from a small per-tenant "world" (machines, users, alerts) that
is read once. Thread safety: queries run on worker threads, each on its own cursor; a tenant's
database is closed only when no query uses it any more (reference counted), so ``reset()`` or a
rebuild never closes a connection under a running query.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from mdekit.emulator.hunting.data import build_table, new_world
from mdekit.emulator.hunting.engine import WINDOW_US, Limits, QueryResult, run_query
from mdekit.emulator.hunting.errors import KqlError
from mdekit.emulator.hunting.quota import CpuLedger
from mdekit.emulator.hunting.tables import HIDDEN_TABLES, TABLES, create_table
from mdekit.emulator.hunting.udfs import register

__all__ = ["HuntingSources", "HuntingStore", "hunting_store", "insert_rows", "new_database"]

_HOUR_US = 3_600_000_000
_log = logging.getLogger("mdekit.emulator.hunting")
#: Queries that run at once (per emulator); more wait their turn. The rest of the emulator never waits.
WORKERS = 4

#: Machines: count, newest row, and a digest of the columns the hunting tables show.
_MACHINE_PRINT = (
    "SELECT count(*), max(n), total(length(data)), "
    "group_concat(coalesce(machine_tags, '') || coalesce(health_status, '') || "
    "coalesce(onboarding_status, '') || coalesce(last_ip_address, '') || coalesce(exposure_level, ''), '|') "
    "FROM def_machines WHERE tenant = ?"
)
#: Alerts: count, newest row, newest update (served by the (tenant, last_update_time) index).
_ALERT_PRINT = "SELECT count(*), max(n), max(last_update_time) FROM def_alerts WHERE tenant = tk(?)"
#: Software installed or removed (the DeviceTvm* tables): every change writes a delta event.
_TVM_PRINT = "SELECT count(*), max(n) FROM tvm_changes WHERE tenant = ?"


def _changes(db: Any) -> tuple[int, int] | None:
    """A stamp that moves whenever the SQLite database is written (``None``: cannot tell)."""
    conn, lock = getattr(db, "conn", None), getattr(db, "lock", None)
    if conn is None or lock is None:
        return None
    with lock:
        return (conn.total_changes, conn.execute("PRAGMA data_version").fetchone()[0])


class HuntingSources(Protocol):
    """What the store reads from the emulator: its clock and the Defender store."""

    @property
    def clock(self) -> Any:
        """The virtual clock (``time()`` in epoch seconds)."""

    @property
    def defender(self) -> Any:
        """The Defender store (``iter_machines``, ``iter_alerts``, ``iter_users``, ``db``)."""


def new_database() -> Any:
    """An empty in-memory DuckDB database with the ``kql_*`` macros and UTC as its time zone."""
    import duckdb

    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")  # strings without a zone are UTC, as in KQL
    # Bound the memory a runaway query may take: it fails with the service's "excessive resource
    # consumption" error instead of taking the machine down.
    conn.execute("SET memory_limit = '2GB'")
    register(conn)
    return conn


def insert_rows(conn: Any, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """Insert storage-form rows (microsecond times, bools, JSON text) into *table* (small sets)."""
    cols = (TABLES | {"__" + k: v for k, v in HIDDEN_TABLES.items()})[table]
    create_table(conn, table, cols)
    defaults = {c: ("" if t == "string" else None) for c, t in cols}
    names = ", ".join(f'"{c}"' for c, _ in cols)
    marks = ", ".join("?" for _ in cols)
    values = [tuple({**defaults, **row}.get(c) for c, _ in cols) for row in rows]
    if values:
        conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)


class _TenantData:
    """One tenant's database, the tables built so far, and who is using it."""

    def __init__(self, fingerprint: tuple[Any, ...], world: Any | None, anchor_us: int) -> None:
        self.db = new_database()
        self.fingerprint = fingerprint
        self.world = world  # built on first use (None for loaded data)
        self.anchor_us = anchor_us
        self.built: set[str] = set()
        self.build_lock = threading.Lock()
        self._lock = threading.Lock()
        self._users = 0
        self._retired = False

    def cursor(self) -> Any:
        """A connection for one query (call :meth:`release` after)."""
        with self._lock:
            if self._retired and self._users == 0:
                raise RuntimeError("hunting database already closed")
            self._users += 1
            return self.db.cursor()

    def release(self, cursor: Any) -> None:
        """Done with *cursor*: close it, and the database if it was retired meanwhile."""
        cursor.close()
        with self._lock:
            self._users -= 1
            if self._retired and self._users == 0:
                self.db.close()

    @property
    def users(self) -> int:
        """Queries using this database right now."""
        with self._lock:
            return self._users

    def retire(self) -> None:
        """Close the database now, or when its last query finishes."""
        with self._lock:
            self._retired = True
            if self._users == 0:
                self.db.close()

    def ensure(self, names: set[str], sources: Any, conn: Any) -> None:
        """Build every table in *names* that is not built yet, on the query's own connection *conn*
        (one builder at a time per tenant; other queries keep reading the tables already built)."""
        missing = names - self.built
        if not missing:
            return
        with self.build_lock:
            for name in sorted(missing - self.built):
                if self.world is None:  # loaded data: tables nobody loaded stay empty
                    cols = TABLES.get(name) or HIDDEN_TABLES.get(name.removeprefix("__"), [])
                    create_table(conn, name, cols)
                else:
                    self.world.ensure_loaded(conn, sources)
                    build_table(conn, name, self.world)
                self.built.add(name)


class HuntingStore:
    """Hunting tables per tenant; :meth:`run` answers a query on the tenant's data."""

    def __init__(self, state: HuntingSources) -> None:
        self.state = state
        self.limits = Limits()
        self._tenants: dict[str, _TenantData] = {}
        self._lock = threading.Lock()
        self.cpu = CpuLedger()
        #: Rows served for externaldata URLs (the emulator never fetches them): url -> rows of text.
        self.external: dict[str, list[list[str]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        #: tenant -> ((database changes, data version) when computed, fingerprint)
        self._prints: dict[str, tuple[tuple[int, int], tuple[Any, ...]]] = {}

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mdekit-hunting")
            return self._pool

    def submit(
        self, tenant: str, query: str, *, window: tuple[int | None, int | None] | None = None
    ) -> Future[QueryResult]:
        """:meth:`run` on a worker thread (the routes await the future, never block the event loop)."""
        return self._executor().submit(self.run, tenant, query, window=window)

    def offload(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run *fn* on a hunting worker (serializing a large result, for instance)."""
        return self._executor().submit(fn, *args)

    def busy(self, tenant: str) -> int:
        """How many queries are running on *tenant*'s data now (diagnostics and tests)."""
        with self._lock:
            data = self._tenants.get(tenant)
        return data.users if data is not None else 0

    def close(self) -> None:
        """Stop the workers (running queries finish within their time budget) and drop all data."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.reset()

    def reset(self) -> None:
        """Forget every tenant's hunting data and restore the default limits."""
        with self._lock:
            old = list(self._tenants.values())
            self._tenants.clear()
            self._prints.clear()
            self.external.clear()
        for data in old:
            data.retire()
        self.limits = Limits()
        self.cpu = CpuLedger()

    def _fingerprint(self, tenant: str) -> tuple[Any, ...]:
        """What the tenant's hunting data is derived from, read with a few small queries.

        Counts, newest row numbers, the machines' hunting-visible columns, the alerts' newest
        update time and the TVM change events: a changed, added or removed machine, alert or
        installed product changes it, while a 100k-alert tenant pays three indexed aggregates
        (after a write; none otherwise) instead of reading every alert.
        """
        defender = self.state.defender
        db = getattr(defender, "db", None)
        if db is None:  # a Defender store without SQL access: derive it from the records
            machines = list(getattr(defender, "iter_machines", lambda _t: [])(tenant))
            return ("records", len(machines), hash(repr(machines)))
        settle = getattr(getattr(defender, "actions", None), "settle", None)
        if callable(settle):  # finished actions (offboarding, ...) change machine records
            settle(tenant)
        # Nothing written since the last look (by this connection, or another one: data_version)?
        # Then the fingerprint stands, and a query pays no aggregate over the tenant's alerts.
        changes = _changes(db)
        with self._lock:
            known = self._prints.get(tenant)
        if changes is not None and known is not None and known[0] == changes:
            return known[1]
        m = db.query_one(_MACHINE_PRINT, (tenant,))
        a = db.query_one(_ALERT_PRINT, (tenant,))
        t = db.query_one(_TVM_PRINT, (tenant,))
        mp = tuple(m) if m else (0, None, 0, None)
        fingerprint = ("sql", *mp[:3], hash(mp[3]), *(tuple(a) if a else ()), *(tuple(t) if t else ()))
        if changes is not None:
            with self._lock:
                self._prints[tenant] = (changes, fingerprint)
        return fingerprint

    def tenant(self, tenant: str) -> _TenantData:
        """The tenant's data, replaced by a fresh (lazily built) one when its sources changed."""
        fingerprint = self._fingerprint(tenant)
        anchor = int(self.state.clock.time() * 1_000_000) // _HOUR_US * _HOUR_US
        with self._lock:
            data = self._tenants.get(tenant)
            if data is not None and data.fingerprint in (fingerprint, ("loaded",)):
                return data
            fresh = _TenantData(fingerprint, new_world(tenant, anchor), anchor)
            self._tenants[tenant] = fresh
        if data is not None:
            data.retire()
        return fresh

    def load(self, tenant: str, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace *tenant*'s data with exactly *tables* (storage-form rows); no regeneration after."""
        data = _TenantData(("loaded",), None, 0)
        for table, rows in tables.items():
            insert_rows(data.db, table, rows)
            data.built.add(table)
        with self._lock:
            old = self._tenants.get(tenant)
            self._tenants[tenant] = data
        if old is not None:
            old.retire()

    def run(
        self, tenant: str, query: str, *, window: tuple[int | None, int | None] | None = None
    ) -> QueryResult:
        """Run *query* on *tenant*'s data at the virtual clock's now (last 30 days, or less).

        Raises :class:`KqlQuotaError` when the tenant's recent queries used up its CPU time.
        Blocking: call it from a worker thread (the routes do).
        """
        started = time.perf_counter()
        limits = self.limits
        self.cpu.check(tenant, self.state.clock.time(), limits)
        data = self.tenant(tenant)
        now_us = int(self.state.clock.time() * 1_000_000)
        start, end = window if window is not None else (None, None)
        floor = now_us - WINDOW_US  # never more than the last 30 days
        span = (
            max(start, floor) if start is not None else floor,
            min(end, now_us) if end is not None else now_us,
        )
        cursor = data.cursor()
        try:
            result = run_query(
                cursor,
                query,
                now_us,
                window=span,
                limits=limits,
                ensure=lambda names: data.ensure(names, self.state, cursor),
                external=self.external.get,
                started=started,
            )
        except KqlError:
            raise
        except Exception as exc:  # an engine defect must not become a 500 for the caller
            _log.warning("hunting query failed unexpectedly", exc_info=True)
            raise KqlError(
                f"An unexpected error occurred during query execution ({type(exc).__name__}). "
                "Please try again in a few minutes."
            ) from None
        finally:
            data.release(cursor)
            self.cpu.charge(tenant, self.state.clock.time(), time.perf_counter() - started)
        return result


def hunting_store(state: Any) -> HuntingStore:
    """The state's :class:`HuntingStore` (``state.hunting``, created on first use)."""
    store: HuntingStore = state.hunting
    return store
