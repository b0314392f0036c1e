"""File sinks: rolling NDJSON segments, or Parquet parts (when pyarrow is installed).

Files cannot join a database transaction, so a small SQLite ledger (``_sync.sqlite`` in the
directory) holds the checkpoints, an index of ``(tenant, entity, id) -> version, hash`` (for
de-duplication) and the committed length of every file. A commit appends the changed records to
the current file and ``fsync`` s it, then commits the ledger. On open, every file is cut back to
its committed length and files the ledger does not know are removed: whatever a killed run wrote
after its last ledger commit disappears, and the restarted run writes it again, once.

NDJSON lines: ``{"tenant", "entity", "id", "version", "syncedAt", "data": {...}}``, a new segment
(``mde_alerts-000002.ndjson``) when the current one passes ``roll_bytes``. Parquet: one part per
commit with the same columns (``data`` as JSON text).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from mdekit.errors import ConfigurationError
from mdekit.sync.entities import ENTITIES, Entity
from mdekit.sync.sinks.base import Record, now_text

__all__ = ["FileSink"]

ROLL_BYTES = 64 * 1024 * 1024
_LEDGER = """
CREATE TABLE IF NOT EXISTS state (tenant TEXT, entity TEXT, checkpoint TEXT NOT NULL, updated_at TEXT,
  PRIMARY KEY (tenant, entity));
CREATE TABLE IF NOT EXISTS idx (tenant TEXT, entity TEXT, id TEXT, version TEXT, hash TEXT,
  PRIMARY KEY (tenant, entity, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, entity TEXT NOT NULL, length INTEGER NOT NULL);
"""


class FileSink:
    """NDJSON (``fmt="ndjson"``) or Parquet (``fmt="parquet"``) files in *directory*."""

    def __init__(self, directory: str | Path, fmt: str = "ndjson", *, roll_bytes: int = ROLL_BYTES) -> None:
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ConfigurationError(
                    "the Parquet sink needs pyarrow: pip install 'mdekit[arrow]'"
                ) from None
        self.dir = Path(directory)
        self.fmt = fmt
        self.url = f"{fmt}:///{self.dir}"
        self.roll_bytes = roll_bytes
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ledger = sqlite3.connect(self.dir / "_sync.sqlite", isolation_level=None, timeout=60)
        self.ledger.execute("PRAGMA journal_mode=WAL")
        self.ledger.execute("PRAGMA synchronous=FULL")
        self.ledger.executescript(_LEDGER)
        self._recover()

    def _recover(self) -> None:
        """Cut files back to their committed length; remove files the ledger does not know."""
        known = dict(self.ledger.execute("SELECT name, length FROM files").fetchall())
        for tmp in self.dir.glob(".mde_*.tmp"):  # a Parquet part killed before its rename
            tmp.unlink()
        for path in sorted(self.dir.glob("mde_*")):
            length = known.get(path.name)
            if length is None:
                path.unlink()
            elif path.stat().st_size != length:
                with open(path, "r+b") as f:
                    f.truncate(length)
                    os.fsync(f.fileno())

    # -- Sink -------------------------------------------------------------------------------------
    def checkpoint(self, tenant: str, entity: Entity) -> dict[str, Any] | None:
        """See :class:`~mdekit.sync.sinks.base.Sink`."""
        row = self.ledger.execute(
            "SELECT checkpoint FROM state WHERE tenant = ? AND entity = ?", (tenant, entity.name)
        ).fetchone()
        return dict(json.loads(row[0])) if row else None

    def max_version(self, tenant: str, entity: Entity) -> str | None:
        """See :class:`~mdekit.sync.sinks.base.Sink`."""
        row = self.ledger.execute(
            "SELECT MAX(version) FROM idx WHERE tenant = ? AND entity = ?", (tenant, entity.name)
        ).fetchone()
        return row[0] if row and row[0] else None

    def _changed(self, tenant: str, entity: Entity, records: list[Record]) -> list[Record]:
        out = []
        for chunk in (records[i : i + 500] for i in range(0, len(records), 500)):
            marks = ",".join("?" * len(chunk))
            stored = dict(
                (r[0], (r[1], r[2]))
                for r in self.ledger.execute(
                    f"SELECT id, version, hash FROM idx WHERE tenant = ? AND entity = ? AND id IN ({marks})",
                    (tenant, entity.name, *(r.id for r in chunk)),
                )
            )
            for rec in chunk:
                old = stored.get(rec.id)
                if old is None or rec.version > old[0] or (rec.version == old[0] and rec.hash != old[1]):
                    out.append(rec)
        return out

    def commit(self, tenant: str, entity: Entity, records: list[Record], checkpoint: dict[str, Any]) -> int:
        """See :class:`~mdekit.sync.sinks.base.Sink` (files first, then the ledger)."""
        changed = self._changed(tenant, entity, records)
        stamp = now_text()
        written = self._write(tenant, entity, changed, stamp) if changed else None
        self.ledger.execute("BEGIN IMMEDIATE")
        try:
            if written is not None:
                self.ledger.execute(
                    "INSERT INTO files (name, entity, length) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET length = excluded.length",
                    (written[0], entity.name, written[1]),
                )
            self.ledger.executemany(
                "INSERT INTO idx (tenant, entity, id, version, hash) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant, entity, id) DO UPDATE SET version = excluded.version, "
                "hash = excluded.hash",
                [(tenant, entity.name, r.id, r.version, r.hash) for r in changed],
            )
            self.ledger.execute(
                "INSERT INTO state (tenant, entity, checkpoint, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (tenant, entity) DO UPDATE SET checkpoint = excluded.checkpoint, "
                "updated_at = excluded.updated_at",
                (tenant, entity.name, json.dumps(checkpoint), stamp),
            )
        except BaseException:
            self.ledger.execute("ROLLBACK")
            raise
        self.ledger.execute("COMMIT")
        return len(changed)

    def _write(self, tenant: str, entity: Entity, records: list[Record], stamp: str) -> tuple[str, int]:
        rows = [
            {"tenant": tenant, "entity": entity.name, "id": r.id, "version": r.version, "syncedAt": stamp}
            for r in records
        ]
        if self.fmt == "parquet":
            return self._write_parquet(entity, rows, records)
        name, length = self._segment(entity)
        lines = "".join(
            json.dumps(row, separators=(",", ":"))[:-1] + ',"data":' + r.data + "}\n"
            for row, r in zip(rows, records, strict=True)
        ).encode()
        with open(self.dir / name, "ab") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
        return name, length + len(lines)

    def _segment(self, entity: Entity) -> tuple[str, int]:
        """The NDJSON segment to append to and its committed length (a new one past roll_bytes)."""
        row = self.ledger.execute(
            "SELECT name, length FROM files WHERE entity = ? ORDER BY name DESC LIMIT 1", (entity.name,)
        ).fetchone()
        if row is not None and row[1] < self.roll_bytes:
            return str(row[0]), int(row[1])
        number = int(str(row[0]).rsplit("-", 1)[1].split(".")[0]) + 1 if row else 1
        return f"{entity.table}-{number:06d}.ndjson", 0

    def _write_parquet(
        self, entity: Entity, rows: list[dict[str, Any]], records: list[Record]
    ) -> tuple[str, int]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        count = self.ledger.execute("SELECT COUNT(*) FROM files WHERE entity = ?", (entity.name,)).fetchone()[
            0
        ]
        name = f"{entity.table}-{int(count) + 1:06d}.parquet"
        columns = {k: [row[k] for row in rows] for k in ("tenant", "entity", "id", "version", "syncedAt")}
        columns["data"] = [r.data for r in records]
        tmp = self.dir / f".{name}.tmp"
        pq.write_table(pa.table(columns), tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.dir / name)
        return name, (self.dir / name).stat().st_size

    def status(self) -> list[dict[str, Any]]:
        """See :class:`~mdekit.sync.sinks.base.Sink`."""
        out = []
        for tenant, name, cp, updated in self.ledger.execute(
            "SELECT tenant, entity, checkpoint, updated_at FROM state ORDER BY tenant, entity"
        ).fetchall():
            count, newest = self.ledger.execute(
                "SELECT COUNT(*), MAX(version) FROM idx WHERE tenant = ? AND entity = ?", (tenant, name)
            ).fetchone()
            out.append(
                {
                    "tenant": tenant,
                    "entity": name,
                    "records": int(count),
                    "newest": newest,
                    "updatedAt": updated,
                    "checkpoint": json.loads(cp),
                }
            )
        return out

    def lines(self, entity: Entity) -> list[dict[str, Any]]:
        """Every record written for *entity*, in order (NDJSON or Parquet; for checks and tests)."""
        out: list[dict[str, Any]] = []
        names = [
            r[0]
            for r in self.ledger.execute(
                "SELECT name FROM files WHERE entity = ? ORDER BY name", (entity.name,)
            )
        ]
        for name in names:
            path = self.dir / name
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                for row in pq.read_table(path).to_pylist():
                    out.append({**row, "data": json.loads(row["data"])})
            else:
                out.extend(json.loads(line) for line in path.read_text().splitlines())
        return out

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()


_ = ENTITIES
