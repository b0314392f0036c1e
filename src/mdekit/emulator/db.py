"""SQLite access for the emulator: one connection, one lock, explicit transactions.

The emulator's stores share this :class:`Database`. SQLite in WAL mode keeps every committed
write across a crash of the process (SIGKILL included); a write is acknowledged to a client only
after its transaction commits.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mdekit.emulator import datafile

__all__ = ["Database"]

#: Page size of new database files.
PAGE_SIZE = 8192
#: Bytes the WAL file is truncated to after a checkpoint.
WAL_SIZE_LIMIT = 64 * 1024 * 1024

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class Database:
    """A SQLite file (or ``:memory:``) shared by the emulator's stores."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path else ":memory:"
        # A file is this process's alone while open (see datafile); ConfigurationError if unusable.
        self._file_lock = datafile.claim(Path(self.path)) if self.path != ":memory:" else None
        self.lock = threading.RLock()
        try:
            self.conn = self._connect()
        except sqlite3.DatabaseError as exc:
            self._release()
            raise datafile.translate(Path(self.path), exc) from None
        except BaseException:
            self._release()
            raise

    def _connect(self) -> sqlite3.Connection:
        # One connection guarded by a lock: the server's worker threads never interleave writes.
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            if self.path != ":memory:":
                # Only takes effect for a new file (before its first table). 8 KiB pages: a 100,000-alert
                # seed costs ~25% less CPU in B-tree and WAL work than with 4 KiB, reads stay cheap.
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                conn.execute("PRAGMA journal_mode=WAL")
                # A large seed passes through the WAL; once checkpointed, give the disk space back
                # instead of keeping a WAL file as large as the biggest transaction ever was.
                conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                datafile.check_usable(conn, Path(self.path))
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(_META)
        except BaseException:
            conn.close()
            raise
        return conn

    def _release(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self.lock:
            if self.conn.in_transaction:  # nested use joins the outer transaction
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Run a read query and return all rows."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        """Run a read query and return the first row or ``None``."""
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def script(self, sql: str) -> None:
        """Run DDL (idempotent ``CREATE ... IF NOT EXISTS`` statements)."""
        with self.lock:
            self.conn.executescript(sql)

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value from the key/value ``meta`` table."""
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value in the ``meta`` table."""
        with self.tx() as c:
            c.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate the WAL (after a large write)."""
        if self.path != ":memory:":
            with self.lock:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL) and let another emulator open the file."""
        with self.lock:
            self.conn.close()
            self._release()
