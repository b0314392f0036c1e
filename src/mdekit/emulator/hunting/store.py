"""Per-tenant hunting data: one in-memory SQLite database per tenant, generated on first use.

Kept apart from the emulator's main database on purpose: hunting data is derived (regenerated
from the tenant's machines and alerts when they change) and queries never hold the main lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mdekit.emulator.hunting.engine import Limits, QueryResult, run_query
from mdekit.emulator.hunting.generator import fleet_from_seed, generate
from mdekit.emulator.hunting.quota import CpuLedger
from mdekit.emulator.hunting.tables import TABLES, create_tables
from mdekit.emulator.hunting.udfs import register

if TYPE_CHECKING:
    from mdekit.emulator.state import EmulatorState

__all__ = ["HuntingStore", "hunting_store", "insert_rows"]

_HOUR_US = 3_600_000_000


#: Machines: count, newest row, and a digest of the columns the hunting tables show.
_MACHINE_PRINT = (
    "SELECT count(*), max(n), total(length(data)), "
    "group_concat(coalesce(machine_tags, '') || coalesce(health_status, '') || "
    "coalesce(onboarding_status, '') || coalesce(last_ip_address, '') || coalesce(exposure_level, ''), '|') "
    "FROM def_machines WHERE tenant = ?"
)
#: Alerts: count, newest row, newest update (served by the (tenant, last_update_time) index).
_ALERT_PRINT = "SELECT count(*), max(n), max(last_update_time) FROM def_alerts WHERE tenant = ?"


def _new_connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    create_tables(conn)
    register(conn)
    return conn


def insert_rows(conn: sqlite3.Connection, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """Insert storage-form rows (microsecond times, 0/1 bools, JSON text) into *table*."""
    cols = TABLES[table]
    defaults = {c: ("" if t == "string" else None) for c, t in cols}
    names = ", ".join(f'"{c}"' for c, _ in cols)
    marks = ", ".join("?" for _ in cols)
    values = [tuple({**defaults, **row}.get(c) for c, _ in cols) for row in rows]
    conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)


@dataclass
class _TenantData:
    conn: sqlite3.Connection
    fingerprint: tuple[Any, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)


class HuntingStore:
    """Hunting tables per tenant; :meth:`run` answers a query on the tenant's data."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.limits = Limits()
        self._tenants: dict[str, _TenantData] = {}
        self._lock = threading.Lock()
        self.cpu = CpuLedger()

    def reset(self) -> None:
        """Forget every tenant's hunting data and restore the default limits."""
        with self._lock:
            for data in self._tenants.values():
                data.conn.close()
            self._tenants.clear()
        self.limits = Limits()
        self.cpu = CpuLedger()

    def _sources(self, tenant: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        defender = self.state.defender
        machines = list(getattr(defender, "iter_machines", lambda _t: [])(tenant))
        alerts = list(getattr(defender, "iter_alerts", lambda _t: [])(tenant)) if machines else []
        return (machines or fleet_from_seed(tenant)), alerts

    def _fingerprint(self, tenant: str) -> tuple[Any, ...]:
        """What the tenant's hunting data is derived from, read with a few small queries.

        Counts, newest row numbers, the machines' hunting-visible columns and the alerts' newest
        update time: a changed, added or removed machine or alert changes it, while a 100k-alert
        tenant pays two indexed aggregates per query instead of reading every alert.
        """
        defender = self.state.defender
        db = getattr(defender, "db", None)
        if db is None:  # a Defender store without SQL access: derive it from the records
            records = self._sources(tenant)
            return ("records", len(records[0]), len(records[1]), hash(repr(records)))
        settle = getattr(getattr(defender, "actions", None), "settle", None)
        if callable(settle):  # finished actions (offboarding, ...) change machine records
            settle(tenant)
        m = db.query_one(_MACHINE_PRINT, (tenant,))
        a = db.query_one(_ALERT_PRINT, (tenant,))
        mp = tuple(m) if m else (0, None, 0, None)
        return ("sql", *mp[:3], hash(mp[3]), *(tuple(a) if a else ()))

    def tenant(self, tenant: str) -> _TenantData:
        """The tenant's database, (re)generated when its machines or alerts changed."""
        fingerprint = self._fingerprint(tenant)
        with self._lock:
            data = self._tenants.get(tenant)
            if data is not None and data.fingerprint in (fingerprint, ("loaded",)):
                return data
        machines, alerts = self._sources(tenant)
        conn = _new_connection()
        anchor = int(self.state.clock.time() * 1_000_000) // _HOUR_US * _HOUR_US
        for table, rows in generate(tenant, machines, alerts, anchor).items():
            insert_rows(conn, table, rows)
        with self._lock:
            old = self._tenants.get(tenant)
            if old is not None and old.fingerprint in (fingerprint, ("loaded",)):
                conn.close()  # another request built it meanwhile
                return old
            if old is not None:
                old.conn.close()
            data = self._tenants[tenant] = _TenantData(conn, fingerprint)
            return data

    def load(self, tenant: str, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace *tenant*'s data with exactly *tables* (storage-form rows); no regeneration after."""
        conn = _new_connection()
        for table, rows in tables.items():
            insert_rows(conn, table, rows)
        with self._lock:
            old = self._tenants.get(tenant)
            if old is not None:
                old.conn.close()
            self._tenants[tenant] = _TenantData(conn, ("loaded",))

    def run(self, tenant: str, query: str, *, window_us: int | None = None) -> QueryResult:
        """Run *query* on *tenant*'s data at the virtual clock's now (last 30 days, or less).

        Raises :class:`KqlQuotaError` when the tenant's recent queries used up its CPU time.
        """
        from mdekit.emulator.hunting.engine import WINDOW_US

        self.cpu.check(tenant, self.state.clock.time(), self.limits)
        data = self.tenant(tenant)
        now_us = int(self.state.clock.time() * 1_000_000)
        window = WINDOW_US if window_us is None else min(window_us, WINDOW_US)
        with data.lock:
            result = run_query(data.conn, query, now_us, window_us=window, limits=self.limits)
        self.cpu.charge(tenant, self.state.clock.time(), float(result.stats.get("ExecutionTime", 0.0)))
        return result


def hunting_store(state: EmulatorState) -> HuntingStore:
    """The state's :class:`HuntingStore` (``state.hunting``, created on first use)."""
    return state.hunting
