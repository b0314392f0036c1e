"""Bulk-load settings for a seed, inside the seed's own transaction.

* A bigger page cache while the seed runs, so B-tree pages being filled are not spilled to the
  WAL and rewritten again and again.
* The alerts' filter indexes are dropped and built after the inserts (one sort per index instead
  of 100,000 random B-tree inserts each) when the seed adds more alerts than the table already
  holds; with a larger table, rebuilding every other tenant's index entries would cost more.

Everything happens inside the caller's transaction: DDL is transactional in SQLite, so a failed
or interrupted seed rolls back to the previous indexes and data. Durability is unchanged (WAL,
``synchronous=NORMAL``): a crash mid-seed loses the seed, never an acknowledged write.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from mdekit.emulator.defender.schema import ALERT_INDEX_NAMES, ALERT_INDEXES

__all__ = ["bulk_load", "prefetch"]

T = TypeVar("T")

#: Page cache for the seed transaction, in KiB (SQLite's negative ``cache_size`` form).
SEED_CACHE_KIB = 64 * 1024
#: Below this many alerts, dropping and rebuilding indexes is not worth it.
_DEFER_MIN = 5_000


@contextmanager
def bulk_load(conn: sqlite3.Connection, alerts: int) -> Iterator[None]:
    """Within a transaction: raise the page cache; defer the alert indexes for a large seed."""
    old_cache = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    conn.execute(f"PRAGMA cache_size = {-SEED_CACHE_KIB}")
    try:
        defer = alerts >= _DEFER_MIN and alerts > _existing_alerts(conn)
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


def _existing_alerts(conn: sqlite3.Connection) -> int:
    # Bounded count: we only need to know whether the table holds at least a few rows more.
    row = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM def_alerts LIMIT 2000000)").fetchone()
    return int(row[0])


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Iterate *items* in a worker thread, *depth* ahead of the consumer.

    The seed generates alert chunks (pure Python) while SQLite inserts the previous chunk and builds
    indexes with the GIL released: on two cores that overlaps most of the generation. Order and
    values are unchanged (one producer, one consumer), so seeds stay deterministic. An exception
    in the producer is raised in the consumer; a consumer that stops early stops the producer.
    """
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                box.put((True, item))
            box.put((False, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            box.put((False, exc))

    worker = threading.Thread(target=produce, name="mdekit-seed", daemon=True)
    worker.start()  # now, not at the first next(): the caller has other inserts to do meanwhile
    return _consume(box, stop, worker)


def _consume(
    box: queue.Queue[tuple[bool, Any]], stop: threading.Event, worker: threading.Thread
) -> Iterator[Any]:
    try:
        while True:
            more, item = box.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                box.get(timeout=0.05)
