"""Memoized directory reads for the hot paths (token requests, API token checks).

A token request used to run about eight small queries (tenant, service principal, secrets or
certificates, app, grants). The answers only change when the directory is written, so they are
kept in memory and dropped as soon as the database *may* have changed:

* every :class:`~mdekit.emulator.entra.directory.DirectoryStore` write bumps :attr:`ReadCache.generation`;
* ``sqlite3.Connection.total_changes`` catches any other write on the emulator's connection
  (raw SQL in a test, another store), whatever table it touched;
* ``PRAGMA data_version`` catches commits by *other* connections to the same file.

Look-ups and loads run under the database lock, which every write also takes, so a value read
before a write can never be stored as current after it. Consent, revocation, deleted apps and
new or removed credentials therefore take effect on the very next request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, TypeVar

from mdekit.emulator.db import Database

__all__ = ["ReadCache"]

T = TypeVar("T")


class ReadCache:
    """A bounded ``key -> value`` memo, emptied whenever the database may have changed."""

    def __init__(self, db: Database, limit: int = 4096) -> None:
        self.db = db
        self.limit = limit  # unknown ids from hostile clients must not grow it without bound
        self.generation = 0
        self._entries: dict[Hashable, Any] = {}
        self._stamp: tuple[int, int, int] | None = None
        self._held = False  # inside consistent(): changes were checked once for the whole block

    def invalidate(self) -> None:
        """Forget everything (called after every directory write, committed or not)."""
        with self.db.lock:
            self.generation += 1
            self._entries.clear()

    def _current(self) -> tuple[int, int, int]:
        conn = self.db.conn
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        return self.generation, conn.total_changes, int(version)

    def _refresh(self) -> None:
        stamp = self._current()
        if stamp != self._stamp:
            self._entries.clear()
            self._stamp = stamp

    def consistent(self) -> AbstractContextManager[None]:
        """Hold the database lock and look for changes once, for several reads in a row.

        A token request reads the directory ~8 times; each check costs a query. While the lock
        is held no other thread can write; a directory write made inside still empties the cache.
        """
        return _Consistent(self)

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value cached under *key*, or ``load()`` (then cached). Values must be immutable."""
        with self.db.lock:
            if not self._held:
                self._refresh()
            try:
                found: T = self._entries[key]
                return found
            except KeyError:
                pass
            value = load()
            if len(self._entries) >= self.limit:
                self._entries.clear()
            self._entries[key] = value
            return value


class _Consistent(AbstractContextManager[None]):
    """:meth:`ReadCache.consistent`'s block (a class: cheaper than a generator on every token)."""

    __slots__ = ("_cache", "_outer")

    def __init__(self, cache: ReadCache) -> None:
        self._cache = cache
        self._outer = False

    def __enter__(self) -> None:
        cache = self._cache
        cache.db.lock.acquire()
        if cache._held:  # nested: the outer block checked already
            return
        try:
            cache._refresh()
        except BaseException:
            cache.db.lock.release()
            raise
        cache._held = self._outer = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._outer:
            self._cache._held = False
        self._cache.db.lock.release()
