"""The live response library: files (scripts, tools) a tenant uploaded for RunScript and PutFile.

Entity shape from the list-library-files example (service-facts-2 §2.3): ``fileName``, ``sha256``,
``description``, ``creationTime``, ``lastUpdatedTime``, ``createdBy``, ``hasParameters`` and
``parametersDescription`` (present in the example only when ``hasParameters`` is true).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

from mdekit.catalog import LIVE_RESPONSE
from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.wire import ApiFailure, bad_request

__all__ = ["Blobs", "LibraryStore", "check_file_name"]

# The portal allows "alphanumeric characters and some symbols (specifically -, _ or .)" in library
# file names (live-response page); that the API applies the same rule is UNVERIFIED.
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


def check_file_name(name: str) -> None:
    """400 ``InvalidInput`` unless *name* is a valid library file name."""
    if not _NAME.match(name) or name in (".", ".."):
        raise bad_request(
            "InvalidInput",
            f"Invalid file name '{name}': use letters, digits, '-', '_' and '.' only",
        )


class Blobs:
    """File contents by SHA-256, per tenant (stored once, however often they are used)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def put(c: sqlite3.Connection, tenant: str, content: bytes) -> str:
        """Store *content* (inside the caller's transaction); its SHA-256."""
        digest = hashlib.sha256(content).hexdigest()
        c.execute(
            "INSERT OR IGNORE INTO def_blobs (tenant, sha256, content) VALUES (?, ?, ?)",
            (tenant, digest, content),
        )
        return digest

    def get(self, tenant: str, sha256: str) -> bytes | None:
        """The bytes stored under *sha256*, or ``None``."""
        row = self.db.query_one(
            "SELECT content FROM def_blobs WHERE tenant = ? AND sha256 = ?", (tenant, sha256)
        )
        return bytes(row["content"]) if row else None


class LibraryStore:
    """One row per (tenant, file name); the bytes are a blob."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock
        self.blobs = Blobs(db)

    def list(self, tenant: str) -> list[dict[str, Any]]:
        """Every library file of *tenant*, by name."""
        rows = self.db.query(
            "SELECT data FROM def_library WHERE tenant = ? ORDER BY file_name COLLATE NOCASE", (tenant,)
        )
        return [loads(r["data"]) for r in rows]

    def get(self, tenant: str, name: str) -> dict[str, Any] | None:
        """One library file's entity (names compare case-insensitively), or ``None``."""
        row = self.db.query_one(
            "SELECT data FROM def_library WHERE tenant = ? AND file_name = ?", (tenant, name)
        )
        return loads(row["data"]) if row else None

    def content(self, tenant: str, name: str) -> bytes | None:
        """The bytes of a library file, or ``None``."""
        row = self.db.query_one(
            "SELECT sha256 FROM def_library WHERE tenant = ? AND file_name = ?", (tenant, name)
        )
        return self.blobs.get(tenant, row["sha256"]) if row else None

    def upload(
        self,
        tenant: str,
        name: str,
        content: bytes,
        *,
        created_by: str,
        description: str | None,
        parameters_description: str | None,
        has_parameters: bool,
        override: bool,
    ) -> dict[str, Any]:
        """Add (or with *override* replace) a file; 400 when it is too large or already there."""
        check_file_name(name)
        if len(content) > LIVE_RESPONSE.library_file_bytes:
            raise bad_request(
                "InvalidInput",
                f"File size {len(content)} bytes exceeds the maximum of "
                f"{LIVE_RESPONSE.library_file_bytes // (1024 * 1024)} MB",
            )
        now = format_odata_time(datetime.fromtimestamp(self.clock.time(), UTC))
        with self.db.tx() as c:
            row = c.execute(
                "SELECT data FROM def_library WHERE tenant = ? AND file_name = ?", (tenant, name)
            ).fetchone()
            if row is not None and not override:
                # The status and code of this refusal are UNVERIFIED (the docs only say 400).
                raise ApiFailure(
                    400,
                    "InvalidInput",
                    f"File {loads(row['data'])['fileName']} already exists in the library; "
                    "set OverrideIfExists to replace it",
                )
            digest = self.blobs.put(c, tenant, content)
            entity: dict[str, Any] = {
                "fileName": name,
                "sha256": digest,
                "description": description,
                "creationTime": loads(row["data"])["creationTime"] if row else now,
                "lastUpdatedTime": now,
                "createdBy": created_by,
                "hasParameters": has_parameters,
            }
            if has_parameters:
                entity["parametersDescription"] = parameters_description or ""
            c.execute("DELETE FROM def_library WHERE tenant = ? AND file_name = ?", (tenant, name))
            c.execute(
                "INSERT INTO def_library (tenant, file_name, sha256, data) VALUES (?, ?, ?, ?)",
                (tenant, name, digest, dumps(entity)),
            )
        return entity

    def delete(self, tenant: str, name: str) -> bool:
        """Remove a file; ``False`` if there was none."""
        with self.db.tx() as c:
            gone = c.execute("DELETE FROM def_library WHERE tenant = ? AND file_name = ?", (tenant, name))
        return gone.rowcount > 0
