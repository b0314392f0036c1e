"""The request journal: one line per request the emulator answered (never a secret or token)."""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any, NamedTuple

from mdekit.emulator.clock import format_odata_time

__all__ = ["JournalEntry", "RequestJournal"]


class JournalEntry(NamedTuple):
    """One answered request as recorded; :meth:`RequestJournal.entries` gives it as JSON."""

    time: float  # virtual clock, seconds since the epoch
    method: str
    host: str
    path: str
    status: int
    tenant_id: str | None
    app_id: str | None

    def to_json(self) -> dict[str, Any]:
        """``{"time", "method", "host", "path", "status", "tenantId", "appId"}``."""
        return {
            "time": format_odata_time(datetime.fromtimestamp(self.time, UTC)),
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "status": self.status,
            "tenantId": self.tenant_id,
            "appId": self.app_id,
        }


class RequestJournal:
    """A bounded, thread-safe list of request entries.

    Entries are kept as recorded (a tuple) and turned into JSON when read: recording is on every
    request's path, reading is rare (issue 19: formatting the time cost more than the rest).
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        self._items: deque[JournalEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        """Append one entry (the path never includes the query string, which may carry ids only)."""
        with self._lock:
            self._items.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry as JSON, oldest first: ``{"time", "method", "host", "path", "status",
        "tenantId", "appId"}``."""
        with self._lock:
            items = list(self._items)
        return [item.to_json() for item in items]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
