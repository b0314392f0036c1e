"""Machines: stored JSON in the service's key order plus filterable columns."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.answers import AnswerForms
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.listing import ListQuery, decode, run_list

__all__ = ["MachineStore"]

_COLUMNS = (
    "tenant",
    "id",
    "computer_dns_name",
    "version",
    "device_value",
    "aad_device_id",
    "machine_tags",
    "last_seen",
    "exposure_level",
    "onboarding_status",
    "last_ip_address",
    "health_status",
    "os_platform",
    "risk_score",
    "rbac_group_id",
    "data",
)
_INSERT = f"INSERT INTO def_machines ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_UPDATE = (
    "UPDATE def_machines SET " + ", ".join(f"{c} = ?" for c in _COLUMNS[2:]) + " WHERE tenant = ? AND id = ?"
)


def _row(tenant: str, m: dict[str, Any]) -> tuple[Any, ...]:
    return (
        tenant,
        m["id"],
        m["computerDnsName"],
        m["version"],
        m["deviceValue"],
        m["aadDeviceId"],
        dumps(m["machineTags"]),
        m["lastSeen"],
        m["exposureLevel"],
        m["onboardingStatus"],
        m["lastIpAddress"],
        m["healthStatus"],
        m["osPlatform"],
        m["riskScore"],
        m["rbacGroupId"],
        dumps(m),
    )


class MachineStore:
    """One tenant's machines at a time; every method names the tenant."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock
        self.answers = AnswerForms()  # the list's rows in answer form (issue 19)

    def insert_many(self, conn: sqlite3.Connection, tenant: str, machines: Iterable[dict[str, Any]]) -> None:
        """Insert machines inside the caller's transaction."""
        conn.executemany(_INSERT, (_row(tenant, m) for m in machines))

    def save(self, tenant: str, machine: dict[str, Any]) -> None:
        """Write back a changed machine."""
        row = _row(tenant, machine)
        with self.db.tx() as c:
            c.execute(_UPDATE, (*row[2:], tenant, machine["id"]))

    def get(self, tenant: str, key: str) -> dict[str, Any] | None:
        """A machine by id or computer name (full DNS name or its host part)."""
        # The host part matches case-insensitively (as LIKE 'key.%' did) without LIKE, whose
        # patterns SQLite refuses beyond 50,000 bytes: a 200 KB path segment is a 404, not a 500.
        host = key + "."
        row = self.db.query_one(
            "SELECT data FROM def_machines WHERE tenant = ? AND (id = ? OR computer_dns_name = ? "
            "OR substr(computer_dns_name, 1, ?) = ? COLLATE NOCASE) ORDER BY (id = ?) DESC LIMIT 1",
            (tenant, key, key, len(host), host, key),
        )
        return loads(row["data"]) if row else None

    def page(self, tenant: str, query: ListQuery, **extra: Any) -> tuple[list[dict[str, Any]], bool]:
        """A page of machines matching *query*."""
        rows, more = run_list(self.db, "def_machines", tenant, query, **extra)
        return decode(rows), more

    def answer_page(self, tenant: str, query: ListQuery) -> tuple[list[Any], bool]:
        """:meth:`page` for a list answer: the rows in answer form, spliced as they are (issue 19;
        dicts for ``$select``)."""
        rows, more = run_list(self.db, "def_machines", tenant, query)
        return (decode(rows) if query.select is not None else self.answers.rendered(rows)), more

    def by_ids(self, tenant: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Machines with these ids (unknown ids skipped), in insertion order."""
        keys = list(dict.fromkeys(ids))
        out: list[dict[str, Any]] = []
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.query(
                f"SELECT data FROM def_machines WHERE tenant = ? AND id IN ({marks}) ORDER BY n",
                (tenant, *chunk),
            )
            out.extend(decode(rows))
        return out

    def find_by_ip(self, tenant: str, ip: str, when: str) -> list[dict[str, Any]]:
        """Machines that had *ip* within 15 minutes of *when* (first seen - 15 min .. last seen + 15 min)."""
        from mdekit.emulator.clock import parse_time

        t = parse_time(when)
        lo = format_odata_time(t - timedelta(minutes=15))
        hi = format_odata_time(t + timedelta(minutes=15))
        rows = self.db.query(
            "SELECT data FROM def_machines WHERE tenant = ? AND last_seen >= ? "
            "AND json_extract(data, '$.firstSeen') <= ? AND (last_ip_address = ? OR EXISTS "
            "(SELECT 1 FROM json_each(data, '$.ipAddresses') WHERE json_extract(value, '$.ipAddress') = ?)) "
            "ORDER BY n",
            (tenant, lo, hi, ip, ip),
        )
        return decode(rows)

    def find_by_tag(self, tenant: str, tag: str, starts_with: bool) -> list[dict[str, Any]]:
        """Machines tagged *tag* (case-insensitive), or with a tag starting with it."""
        # A prefix without LIKE: SQLite refuses LIKE patterns beyond 50,000 bytes.
        args: tuple[Any, ...]
        if starts_with:
            cond, args = "substr(value, 1, ?) = ? COLLATE NOCASE", (len(tag), tag)
        else:
            cond, args = "value = ? COLLATE NOCASE", (tag,)
        rows = self.db.query(
            f"SELECT data FROM def_machines WHERE tenant = ? AND EXISTS "
            f"(SELECT 1 FROM json_each(machine_tags) WHERE {cond}) ORDER BY n LIMIT 10000",
            (tenant, *args),
        )
        return decode(rows)

    def state(self, tenant: str, machine_id: str) -> dict[str, Any] | None:
        """Containment state the API does not show: ``{"isolation", "restricted"}``."""
        row = self.db.query_one(
            "SELECT isolation, restricted FROM def_machines WHERE tenant = ? AND id = ?", (tenant, machine_id)
        )
        return {"isolation": row["isolation"], "restricted": bool(row["restricted"])} if row else None

    def set_state(self, conn: sqlite3.Connection, tenant: str, machine_id: str, **changes: Any) -> None:
        """Change containment columns (``isolation``, ``restricted``) inside a transaction."""
        for column, value in changes.items():
            assert column in ("isolation", "restricted")
            conn.execute(
                f"UPDATE def_machines SET {column} = ? WHERE tenant = ? AND id = ?",
                (value, tenant, machine_id),
            )
