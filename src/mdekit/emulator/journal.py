"""The request journal: one line per request the emulator answered (never a secret or token)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["RequestJournal"]


class RequestJournal:
    """A bounded, thread-safe list of request entries.

    Each entry: ``{"time", "method", "host", "path", "status", "tenantId", "appId"}``.
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        """Append one entry (the path never includes the query string, which may carry ids only)."""
        with self._lock:
            self._items.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """A copy of every entry, oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
