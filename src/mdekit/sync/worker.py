"""A worker among several sharing tenants through PostgreSQL leases (:mod:`mdekit.sync.leases`).

Each worker knows every tenant; the lease table decides who syncs which, one tenant at a time:
take the free tenant synced longest ago, run a pass of each entity (renewing the lease after
every page), hand it back, take the next. ``once``: stop when every tenant has finished a pass
since this worker started (tenants of a dead worker are taken over when its leases expire).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from mdekit.sync.engine import PassResult, Syncer
from mdekit.sync.entities import Entity
from mdekit.sync.leases import LeaseBoard
from mdekit.sync.sinks.postgres import LeaseLost, PostgresSink
from mdekit.sync.source import Source

__all__ = ["Worker"]

log = logging.getLogger("mdekit.sync")


@dataclass
class Worker:
    """One worker (*owner* names it in the lease table)."""

    sink: PostgresSink
    sources: dict[str, Source]
    entities: list[Entity]
    owner: str
    ttl: float = 60.0
    interval: float = 300.0
    idle: float = 1.0
    sleep: Callable[[float], object] = time.sleep

    def __post_init__(self) -> None:
        self.sink.lease_owner = self.owner
        self.board = LeaseBoard(self.sink, self.owner, self.ttl)
        self.board.register(self.sources)
        self.synced: list[str] = []

    def _renew(self, tenant: str) -> Callable[[PassResult], None]:
        def on_page(_: PassResult) -> None:
            if not self.board.renew(tenant):
                raise LeaseLost(f"worker {self.owner} lost its lease on tenant {tenant}")

        return on_page

    def step(self, *, due_after: float) -> str | None:
        """Lease one due tenant and run a pass of every entity; the tenant, or ``None`` if none was free."""
        tenant = self.board.acquire(self.sources, due_after=due_after)
        if tenant is None:
            return None
        syncer = Syncer(self.sink, [self.sources[tenant]], self.entities, on_page=self._renew(tenant))
        try:
            syncer.run_once()
        except LeaseLost as exc:  # paused past the lease's expiry: another worker has the tenant
            log.warning("%s", exc)
            return tenant
        except BaseException:
            self.board.release(tenant, done=False)
            raise
        self.board.release(tenant, done=True)
        self.synced.append(tenant)
        return tenant

    def run(self, *, once: bool = False, stop: Callable[[], bool] = lambda: False) -> None:
        """Work until *stop* (or, with *once*, until every tenant finished a pass since the start)."""
        started = self.sink._execute("SELECT now()")[0][0]
        while not stop():
            due_after = 0.0 if once else self.interval
            if once:  # due: not synced since this worker started
                due_after = max(0.0, (self.sink._execute("SELECT now()")[0][0] - started).total_seconds())
            if self.step(due_after=due_after) is not None:
                continue
            if once and self._all_done_since(started):
                return
            self.sleep(self.idle)

    def _all_done_since(self, started: object) -> bool:
        rows = self.sink._execute(
            "SELECT COUNT(*) FROM mde_sync_leases WHERE tenant = ANY(%s) "
            "AND (last_done IS NULL OR last_done < %s)",
            (list(self.sources), started),
        )
        return int(rows[0][0]) == 0
