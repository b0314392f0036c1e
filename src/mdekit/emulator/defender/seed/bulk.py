"""Bulk-load settings for a seed, inside the seed's own transaction.

* A bigger page cache while the seed runs, so B-tree pages being filled are not spilled to the
  WAL and rewritten again and again.
* The alerts' filter indexes are dropped and built after the inserts (one sort per index instead
  of 100,000 random B-tree inserts each) when the seed adds more alerts than other tenants hold;
  otherwise rebuilding every other tenant's index entries would cost more. Dropped before the
  tenant's old alerts are deleted, so a re-seed does not update them row by row either.

Everything happens inside the caller's transaction: DDL is transactional in SQLite, so a failed
or interrupted seed rolls back to the previous indexes and data: a crash mid-seed loses the seed,
never an acknowledged write.

Around that transaction, :func:`write_once` has a large seed write through SQLite's rollback journal
instead of the WAL: in WAL mode every new page is written twice (to the WAL, then copied into the
database by the checkpoint); the rollback journal only keeps the pages a transaction changes (the
tenant's old data, the tables' last pages), new pages are written once. Still atomic: a crash of
the process mid-seed leaves a hot journal that the next open rolls back. The seed is not fsynced
(``synchronous=OFF``: flushing a 1,000,000-alert seed's ~1.5 GB costs seconds): a process crash
(SIGKILL included) after the seed keeps it, the operating system has every page; an operating
system crash or power loss in the seconds before the kernel writes them back may lose it, or damage
the file. WAL mode and ``synchronous=NORMAL`` (every later write durable) come back when it ends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from mdekit.emulator.db import Database
from mdekit.emulator.defender.schema import ALERT_INDEX_NAMES, ALERT_INDEXES

__all__ = ["bulk_load", "write_once"]

#: Page cache for the seed transaction, in KiB (SQLite's negative ``cache_size`` form).
SEED_CACHE_KIB = 64 * 1024
#: Below this many alerts, dropping and rebuilding indexes is not worth it.
_DEFER_MIN = 5_000


@contextmanager
def bulk_load(conn: sqlite3.Connection, tenant: str, alerts: int) -> Iterator[None]:
    """Within a transaction: raise the page cache; defer the alert indexes for a large seed of
    *tenant* (whose current alerts the seed deletes: they do not count against deferring)."""
    old_cache = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    conn.execute(f"PRAGMA cache_size = {-SEED_CACHE_KIB}")
    try:
        defer = alerts >= _DEFER_MIN and alerts > _other_alerts(conn, tenant)
        if defer:
            for name in ALERT_INDEX_NAMES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        yield
        if defer:
            for ddl in ALERT_INDEXES.split(";"):
                if ddl.strip():
                    conn.execute(ddl)
    finally:
        conn.execute(f"PRAGMA cache_size = {old_cache}")


def _other_alerts(conn: sqlite3.Connection, tenant: str) -> int:
    # Bounded count: we only need to know whether other tenants hold more than the seed adds.
    row = conn.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM def_alerts WHERE tenant != tk(?) LIMIT 2000000)", (tenant,)
    ).fetchone()
    return int(row[0])


@contextmanager
def write_once(db: Database, alerts: int) -> Iterator[None]:
    """Outside any transaction, holding the database's lock: the rollback journal instead of the WAL
    while a seed of *alerts* (at least :data:`_DEFER_MIN`) runs (see the module docstring)."""
    with db.lock:
        if db.path == ":memory:" or alerts < _DEFER_MIN or db.conn.in_transaction:
            yield
            return
        conn = db.conn
        # (returns the mode in force: still "wal" if SQLite could not switch, which is fine too)
        conn.execute("PRAGMA journal_mode=DELETE").fetchall()
        conn.execute("PRAGMA synchronous=OFF")
        try:
            yield
        finally:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
            conn.execute("PRAGMA synchronous=NORMAL")
