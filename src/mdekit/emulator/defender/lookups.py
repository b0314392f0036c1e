"""Files, users and investigations: the seeded catalogue behind the lookup endpoints."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.db import Database
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.listing import ListQuery, decode, run_list
from mdekit.emulator.defender.renderings import unpack

__all__ = ["LookupStore"]


class LookupStore:
    """Read access to files, users and investigations (written by the seed generator)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writes (inside the seeding transaction) --
    def insert_files(self, c: sqlite3.Connection, tenant: str, files: Iterable[dict[str, Any]]) -> None:
        """Insert File entities."""
        c.executemany(
            "INSERT OR REPLACE INTO def_files (tenant, sha1, sha256, data) VALUES (?, ?, ?, ?)",
            [(tenant, f["sha1"], f["sha256"], dumps(f)) for f in files],
        )

    def insert_users(
        self,
        c: sqlite3.Connection,
        tenant: str,
        users: Iterable[dict[str, Any]],
        links: Iterable[tuple[str, str]],
    ) -> None:
        """Insert User entities and (machine id, user id) logon links."""
        c.executemany(
            "INSERT OR REPLACE INTO def_users (tenant, id, account_name, data) VALUES (?, ?, ?, ?)",
            [(tenant, u["id"], u["accountName"], dumps(u)) for u in users],
        )
        c.executemany(
            "INSERT INTO def_machine_users (tenant, machine_id, user_id) VALUES (?, ?, ?)",
            [(tenant, m, u) for m, u in links],
        )

    @staticmethod
    def insert_investigation_rows(c: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert Investigation rows ``(tenant key, id, startTime, state, machineId, triggeringAlertId,
        stored JSON)`` (the seed's; the JSON text or compressed, :mod:`.renderings`)."""
        c.executemany(
            "INSERT INTO def_investigations (tenant, id, start_time, state, machine_id, "
            "triggering_alert_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- reads --
    def file(self, tenant: str, key: str) -> dict[str, Any] | None:
        """A file by SHA-1 or SHA-256."""
        row = self.db.query_one(
            "SELECT data FROM def_files WHERE tenant = ? AND (sha1 = ? OR sha256 = ?)", (tenant, key, key)
        )
        return loads(row["data"]) if row else None

    def files(self, tenant: str, sha1s: list[str]) -> list[dict[str, Any]]:
        """Files with these SHA-1s (unknown skipped)."""
        if not sha1s:
            return []
        marks = ",".join("?" * len(sha1s))
        rows = self.db.query(
            f"SELECT data FROM def_files WHERE tenant = ? AND sha1 IN ({marks})", (tenant, *sha1s)
        )
        return decode(rows)

    def user(self, tenant: str, name: str) -> dict[str, Any] | None:
        """A user by account name or ``domain\\name`` id."""
        row = self.db.query_one(
            "SELECT data FROM def_users WHERE tenant = ? AND (account_name = ? OR id = ?)",
            (tenant, name, name),
        )
        return loads(row["data"]) if row else None

    def logon_users(self, tenant: str, machine_id: str) -> list[dict[str, Any]]:
        """Users who logged on to a machine."""
        rows = self.db.query(
            "SELECT u.data FROM def_machine_users l JOIN def_users u ON u.tenant = l.tenant AND "
            "u.id = l.user_id "
            "WHERE l.tenant = ? AND l.machine_id = ? ORDER BY u.id",
            (tenant, machine_id),
        )
        return decode(rows)

    def machines_of_user(self, tenant: str, name: str) -> list[str]:
        """Ids of machines a user (account name) logged on to."""
        rows = self.db.query(
            "SELECT DISTINCT l.machine_id AS m FROM def_machine_users l JOIN def_users u "
            "ON u.tenant = l.tenant AND u.id = l.user_id WHERE l.tenant = ? AND (u.account_name = "
            "? OR u.id = ?)",
            (tenant, name, name),
        )
        return [r["m"] for r in rows]

    def investigation(self, tenant: str, key: str) -> dict[str, Any] | None:
        """An investigation by its id or its triggering alert's id."""
        row = self.db.query_one(
            "SELECT data FROM def_investigations WHERE tenant = tk(?) AND (id = ? OR "
            "triggering_alert_id = ?) LIMIT 1",
            (tenant, key, key),
        )
        return loads(unpack(row["data"])) if row else None

    def investigations(self, tenant: str, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """A page of investigations."""
        rows, more = run_list(self.db, "def_investigations", tenant, query)
        return [loads(unpack(r["data"])) for r in rows], more
