"""What every sink does, and the SQL the database sinks share.

A sink stores records per (tenant, entity) keyed by id, keeps for each the *version* (the
record's update time, normalized) and a hash of its content, and stores the sync's checkpoint.
:meth:`Sink.commit` writes a page of records **and** the checkpoint that follows it atomically:
a sync killed at any instant resumes from a checkpoint that matches the data exactly.

De-duplication: a record replaces the stored one only when its version is newer, or equal with a
different content (machines, whose ``lastSeen`` may stay while other fields change). Re-reading
a page (the overlap window, a resumed page, a page shifted by an insert) changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, NamedTuple, Protocol

from mdekit.sync.entities import Entity, normalize_time

__all__ = ["Record", "Sink", "SqlSink", "json_records", "prepare"]

SCHEMA_VERSION = 1


class Record(NamedTuple):
    """One record ready for a sink: id, normalized version, content hash, JSON text.

    (A named tuple: a page makes 10,000 of them, and a tuple is made ~3x faster than a frozen
    dataclass.)
    """

    id: str
    version: str
    hash: str
    data: str


def _json_dumps(item: Any) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)


def _dumper() -> Any:
    """orjson when installed (the emulator and sync extras bring it; ~5x faster), else json."""
    try:
        import orjson
    except ImportError:
        return _json_dumps
    dumps = orjson.dumps
    return lambda item: dumps(item).decode()


_dumps = _dumper()


def prepare(entity: Entity, items: Iterable[dict[str, Any]]) -> list[Record]:
    """Records of one page, one per id (the newest if a page repeats one)."""
    out: dict[str, Record] = {}
    for item in items:
        rid = item.get(entity.id_field)
        if rid is None:
            continue
        data = _dumps(item)
        rec = Record(
            str(rid),
            normalize_time(item.get(entity.version_field)),
            hashlib.blake2b(data.encode(), digest_size=8).hexdigest(),
            data,
        )
        _keep_newest(out, rec)
    return list(out.values())


def json_records(entity: Entity, items: Iterable[Any]) -> list[Record]:
    """:func:`prepare` for records given as their compact JSON bytes (:meth:`Source.json_pages`).

    The text stored is the bytes as given, and its hash is over them: the same as :func:`prepare`
    gives when the service's JSON is what orjson writes (the emulator's; a service that escapes
    non-ASCII characters differs, and a record first stored by an older mdekit is then rewritten
    once, unchanged, when read again at the same version). Items that are not objects are skipped.
    """
    keys = _key_decoder(entity.id_field, entity.version_field)
    blake2b = hashlib.blake2b
    out: dict[str, Record] = {}
    for item in items:
        try:
            rid, version = keys(item)
        except ValueError:  # not an object (msgspec's errors are ValueErrors)
            continue
        if rid is None:
            continue
        raw = bytes(item)
        rec = Record(
            rid if isinstance(rid, str) else str(rid),
            normalize_time(version),
            blake2b(raw, digest_size=8).hexdigest(),
            raw.decode(),
        )
        _keep_newest(out, rec)
    return list(out.values())


def _keep_newest(out: dict[str, Record], rec: Record) -> None:
    old = out.get(rec.id)
    if old is None or (rec.version, rec.hash) > (old.version, old.hash):
        out[rec.id] = rec


@cache
def _key_decoder(id_field: str, version_field: str) -> Callable[[Any], tuple[Any, Any]]:
    """(id, version) of one record's JSON: msgspec reads the two fields and skips the rest
    (~15x faster than building the record's dict); ``json.loads`` without msgspec."""
    try:
        import msgspec
    except ImportError:

        def slow(item: Any) -> tuple[Any, Any]:
            record = json.loads(bytes(item))
            if not isinstance(record, dict):
                raise ValueError("not an object")
            return record.get(id_field), record.get(version_field)

        return slow
    key = msgspec.defstruct(
        "RecordKey",
        [
            ("rid", Any, msgspec.field(default=None, name=id_field)),
            ("version", Any, msgspec.field(default=None, name=version_field)),
        ],
        array_like=False,
    )
    decode = msgspec.json.Decoder(key).decode

    def fast(item: Any) -> tuple[Any, Any]:
        got: Any = decode(item)
        return got.rid, got.version

    return fast


class Sink(Protocol):
    """Where records go (see the module docstring)."""

    url: str

    def checkpoint(self, tenant: str, entity: Entity) -> dict[str, Any] | None:
        """The stored checkpoint of (*tenant*, *entity*), ``None`` before the first commit."""
        ...

    def max_version(self, tenant: str, entity: Entity) -> str | None:
        """The newest version stored for (*tenant*, *entity*)."""
        ...

    def commit(self, tenant: str, entity: Entity, records: list[Record], checkpoint: dict[str, Any]) -> int:
        """Store *records* and *checkpoint* atomically; returns how many records changed."""
        ...

    def status(self) -> list[dict[str, Any]]:
        """One row per (tenant, entity): records, newest version, checkpoint."""
        ...

    def close(self) -> None:
        """Release the sink's resources."""
        ...


def now_text() -> str:
    """The wall-clock time, as sinks stamp it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class SqlSink:
    """The SQL shared by SQLite, DuckDB and PostgreSQL: subclasses give the connection and dialect.

    Tables: ``mde_sync_meta`` (schema version), ``mde_sync_state`` (one checkpoint per tenant and
    entity) and one table per entity (``mde_alerts``, ...): ``tenant, id, version, hash, data,
    synced_at`` with primary key ``(tenant, id)``.
    """

    url = ""
    param = "?"
    data_type = "TEXT"

    def __init__(self) -> None:
        self._tables: set[str] = set()

    # -- dialect hooks ----------------------------------------------------------------------------
    def _execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _transaction(self) -> Any:
        raise NotImplementedError

    def _upsert(self, table: str, rows: list[tuple[Any, ...]]) -> int:
        """Upsert rows ``(tenant, id, version, hash, data, synced_at)`` inside the open transaction."""
        raise NotImplementedError

    # -- schema -----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Create the tables, or bring an older layout to :data:`SCHEMA_VERSION`."""
        with self._transaction():
            self._execute(
                "CREATE TABLE IF NOT EXISTS mde_sync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            rows = self._execute("SELECT value FROM mde_sync_meta WHERE key = 'schema_version'")
            current = int(rows[0][0]) if rows else 0
            if current > SCHEMA_VERSION:
                from mdekit.errors import ConfigurationError

                raise ConfigurationError(
                    f"{self.url}: written by a newer mdekit (schema {current}); upgrade mdekit"
                )
            self._execute(
                "CREATE TABLE IF NOT EXISTS mde_sync_state (tenant TEXT NOT NULL, entity TEXT NOT NULL, "
                "checkpoint TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (tenant, entity))"
            )
            if current < SCHEMA_VERSION:
                self._execute("DELETE FROM mde_sync_meta WHERE key = 'schema_version'")
                self._execute(
                    f"INSERT INTO mde_sync_meta (key, value) VALUES ('schema_version', {self.param})",
                    (str(SCHEMA_VERSION),),
                )

    def _table(self, entity: Entity) -> str:
        table = entity.table
        if table not in self._tables:
            with self._transaction():
                self._execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (tenant TEXT NOT NULL, id TEXT NOT NULL, "
                    f"version TEXT NOT NULL, hash TEXT NOT NULL, data {self.data_type} NOT NULL, "
                    "synced_at TEXT NOT NULL, PRIMARY KEY (tenant, id))"
                )
            self._tables.add(table)
        return table

    # -- Sink -------------------------------------------------------------------------------------
    def checkpoint(self, tenant: str, entity: Entity) -> dict[str, Any] | None:
        """See :class:`Sink`."""
        p = self.param
        rows = self._execute(
            f"SELECT checkpoint FROM mde_sync_state WHERE tenant = {p} AND entity = {p}",
            (tenant, entity.name),
        )
        return dict(json.loads(rows[0][0])) if rows else None

    def max_version(self, tenant: str, entity: Entity) -> str | None:
        """See :class:`Sink`."""
        table = self._table(entity)
        rows = self._execute(f"SELECT MAX(version) FROM {table} WHERE tenant = {self.param}", (tenant,))
        return rows[0][0] if rows and rows[0][0] else None

    def commit(self, tenant: str, entity: Entity, records: list[Record], checkpoint: dict[str, Any]) -> int:
        """See :class:`Sink`."""
        table = self._table(entity)
        stamp = now_text()
        rows = [(tenant, r.id, r.version, r.hash, r.data, stamp) for r in records]
        with self._transaction():
            self._fence(tenant)
            changed = self._upsert(table, rows) if rows else 0
            self._save_checkpoint(tenant, entity, checkpoint, stamp)
        return changed

    def _fence(self, tenant: str) -> None:
        """Refuse a commit the caller is no longer entitled to (PostgreSQL leases); none by default."""

    def _save_checkpoint(self, tenant: str, entity: Entity, checkpoint: dict[str, Any], stamp: str) -> None:
        p = self.param
        self._execute(
            "INSERT INTO mde_sync_state (tenant, entity, checkpoint, updated_at) "
            f"VALUES ({p}, {p}, {p}, {p}) "
            "ON CONFLICT (tenant, entity) DO UPDATE SET checkpoint = excluded.checkpoint, "
            "updated_at = excluded.updated_at",
            (tenant, entity.name, json.dumps(checkpoint), stamp),
        )

    def status(self) -> list[dict[str, Any]]:
        """See :class:`Sink`."""
        from mdekit.sync.entities import lookup

        out = []
        for tenant, name, cp, updated in self._execute(
            "SELECT tenant, entity, checkpoint, updated_at FROM mde_sync_state ORDER BY tenant, entity"
        ):
            entity = lookup(name)
            count, newest = 0, None
            if entity is not None:
                table = self._table(entity)
                row = self._execute(
                    f"SELECT COUNT(*), MAX(version) FROM {table} WHERE tenant = {self.param}", (tenant,)
                )[0]
                count, newest = int(row[0]), row[1]
            out.append(
                {
                    "tenant": tenant,
                    "entity": name,
                    "records": count,
                    "newest": newest,
                    "updatedAt": updated,
                    "checkpoint": json.loads(cp),
                }
            )
        return out

    def records(self, tenant: str, entity: Entity) -> dict[str, tuple[str, str]]:
        """``{id: (version, data)}`` of (*tenant*, *entity*) (for checks and tests)."""
        table = self._table(entity)
        rows = self._execute(f"SELECT id, version, data FROM {table} WHERE tenant = {self.param}", (tenant,))
        return {r[0]: (r[1], r[2] if isinstance(r[2], str) else json.dumps(r[2])) for r in rows}


UPSERT_SET = (
    "DO UPDATE SET version = excluded.version, hash = excluded.hash, data = excluded.data, "
    "synced_at = excluded.synced_at WHERE excluded.version > {t}.version "
    "OR (excluded.version = {t}.version AND excluded.hash <> {t}.hash)"
)


class LocalSqlSink(SqlSink):
    """A :class:`SqlSink` on one local file's connection (SQLite, DuckDB): explicit BEGIN/COMMIT.

    Subclasses set ``conn`` (a DB-API connection in autocommit mode) and ``begin`` (the statement
    that opens a write transaction). A nested ``_transaction`` joins the outer one.
    """

    begin = "BEGIN"
    conn: Any

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute(self.begin)
        self._depth = 1
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self.conn.execute("COMMIT")
