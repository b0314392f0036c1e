"""Bulk-load settings for a seed, inside the seed's own transaction.

* A bigger page cache while the seed runs, so B-tree pages being filled are not spilled to the
  WAL and rewritten again and again.
* The alerts' filter indexes are dropped and built after the inserts (one sort per index instead
  of 100,000 random B-tree inserts each) when the seed adds more alerts than other tenants hold;
  otherwise rebuilding every other tenant's index entries would cost more. Dropped before the
  tenant's old alerts are deleted, so a re-seed does not update them row by row either.

Everything happens inside the caller's transaction: DDL is transactional in SQLite, so a failed
or interrupted seed rolls back to the previous indexes and data. Durability is unchanged (WAL,
``synchronous=NORMAL``): a crash mid-seed loses the seed, never an acknowledged write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from mdekit.emulator.defender.schema import ALERT_INDEX_NAMES, ALERT_INDEXES

__all__ = ["bulk_load"]

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
        "SELECT COUNT(*) FROM (SELECT 1 FROM def_alerts WHERE tenant != ? LIMIT 2000000)", (tenant,)
    ).fetchone()
    return int(row[0])
