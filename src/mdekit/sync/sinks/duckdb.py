"""DuckDB file sink (``pip install 'mdekit[sync]'``): columnar, for analysis in place."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mdekit.sync.sinks.base import UPSERT_SET, SqlSink

__all__ = ["DuckdbSink"]


class DuckdbSink(SqlSink):
    """Records and checkpoints in one DuckDB file (its transactions are ACID, WAL-backed)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        try:
            import duckdb
        except ImportError:
            from mdekit.errors import ConfigurationError

            raise ConfigurationError(
                "the DuckDB sink needs the duckdb package: pip install 'mdekit[sync]'"
            ) from None
        self.path = Path(path)
        self.url = f"duckdb:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = duckdb.connect(str(self.path))
        self._depth = 0
        self._migrate()

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:
            yield
            return
        self.conn.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self.conn.execute("COMMIT")

    def _upsert(self, table: str, rows: list[tuple[Any, ...]]) -> int:
        # executemany binds row by row (slow in DuckDB); a staged list of columns goes in one
        # statement through unnest(), which DuckDB vectorizes.
        cols = list(zip(*rows, strict=True))
        self.conn.execute(
            f"INSERT INTO {table} (tenant, id, version, hash, data, synced_at) "
            "SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
            "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])) "
            f"ON CONFLICT (tenant, id) {UPSERT_SET.format(t=table)}",
            [list(c) for c in cols],
        )
        return len(rows)

    def close(self) -> None:
        """Close the file (checkpointing its WAL)."""
        self.conn.close()
