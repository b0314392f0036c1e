"""Several `mde sync` workers sharing tenants through PostgreSQL itself: row leases, no coordinator.

``mde_sync_leases`` has one row per tenant: its owner and when the lease expires. A worker takes
the tenant synced longest ago among those free (no owner, or an expired lease) with ``FOR UPDATE
SKIP LOCKED`` - two workers never wait on or take the same row - syncs it, renews the lease while
it works, and hands it back with the time it finished. A worker that dies simply stops renewing:
its lease expires and the next worker to look takes the tenant over, resuming from the sink's
checkpoint. Commits are fenced (:meth:`PostgresSink._fence`): a worker that lost its lease cannot
write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["LeaseBoard", "ensure_schema"]


def ensure_schema(sink: Any) -> None:
    """Create the lease table (idempotent)."""
    with sink._transaction():
        sink._schema_lock()  # workers starting together would race on the CREATE
        sink._execute(
            "CREATE TABLE IF NOT EXISTS mde_sync_leases (tenant TEXT PRIMARY KEY, owner TEXT, "
            "expires_at TIMESTAMPTZ, last_done TIMESTAMPTZ, passes BIGINT NOT NULL DEFAULT 0)"
        )


class LeaseBoard:
    """The lease operations of one worker (*owner*) over a :class:`PostgresSink`."""

    def __init__(self, sink: Any, owner: str, ttl: float = 30.0) -> None:
        self.sink = sink
        self.owner = owner
        self.ttl = ttl

    def register(self, tenants: Iterable[str]) -> None:
        """Make sure every tenant has a lease row."""
        with self.sink._transaction():
            for tenant in tenants:
                self.sink._execute(
                    "INSERT INTO mde_sync_leases (tenant) VALUES (%s) ON CONFLICT (tenant) DO NOTHING",
                    (tenant,),
                )

    def acquire(self, tenants: Iterable[str], *, due_after: float = 0.0) -> str | None:
        """Lease one free tenant among *tenants* (synced longest ago first, and not within the last
        *due_after* seconds); ``None`` if none is free and due."""
        wanted = list(tenants)
        with self.sink._transaction():
            rows = self.sink._execute(
                "SELECT tenant FROM mde_sync_leases WHERE tenant = ANY(%s) "
                "AND (owner IS NULL OR expires_at <= now()) "
                "AND (last_done IS NULL OR last_done <= now() - make_interval(secs => %s)) "
                "ORDER BY last_done NULLS FIRST, tenant LIMIT 1 FOR UPDATE SKIP LOCKED",
                (wanted, due_after),
            )
            if not rows:
                return None
            tenant = str(rows[0][0])
            self.sink._execute(
                "UPDATE mde_sync_leases SET owner = %s, expires_at = now() + make_interval(secs => %s) "
                "WHERE tenant = %s",
                (self.owner, self.ttl, tenant),
            )
            return tenant

    def renew(self, tenant: str) -> bool:
        """Extend the lease; ``False`` if this worker no longer holds it."""
        with self.sink._transaction():
            rows = self.sink._execute(
                "UPDATE mde_sync_leases SET expires_at = now() + make_interval(secs => %s) "
                "WHERE tenant = %s AND owner = %s AND expires_at > now() RETURNING tenant",
                (self.ttl, tenant, self.owner),
            )
        return bool(rows)

    def release(self, tenant: str, *, done: bool = True) -> None:
        """Hand the tenant back (``done``: a pass finished now)."""
        with self.sink._transaction():
            self.sink._execute(
                "UPDATE mde_sync_leases SET owner = NULL, expires_at = NULL"
                + (", last_done = now(), passes = passes + 1" if done else "")
                + " WHERE tenant = %s AND owner = %s",
                (tenant, self.owner),
            )

    def table(self) -> list[dict[str, Any]]:
        """Every lease row (for `mde sync status`)."""
        rows = self.sink._execute(
            "SELECT tenant, owner, expires_at, last_done, passes FROM mde_sync_leases ORDER BY tenant"
        )
        return [
            {
                "tenant": r[0],
                "owner": r[1],
                "expiresAt": r[2] and r[2].isoformat(),
                "lastDone": r[3] and r[3].isoformat(),
                "passes": int(r[4]),
            }
            for r in rows
        ]
