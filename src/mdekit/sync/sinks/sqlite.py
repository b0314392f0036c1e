"""SQLite file sink (standard library): the embedded default, no server needed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mdekit.sync.sinks.base import UPSERT_SET, LocalSqlSink

__all__ = ["SqliteSink"]


class SqliteSink(LocalSqlSink):
    """Records and checkpoints in one SQLite file (WAL; every commit durable)."""

    begin = "BEGIN IMMEDIATE"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a kill
        self._migrate()

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def _upsert(self, table: str, rows: list[tuple[Any, ...]]) -> int:
        before = self.conn.total_changes
        self.conn.executemany(
            f"INSERT INTO {table} (tenant, id, version, hash, data, synced_at) VALUES (?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (tenant, id) {UPSERT_SET.format(t=table)}",
            rows,
        )
        return self.conn.total_changes - before

    def close(self) -> None:
        """Close the file."""
        self.conn.close()
