"""Client-side rate limiting with the documented per-API limits, so long jobs never meet a 429.

A *sliding-window log with reservations*: for every bucket it remembers when the recent calls were
(or are scheduled to be) sent, and :meth:`RateLimiter.reserve` returns how long the caller must wait
for the next free slot. A sliding window of ``n`` calls per ``w`` seconds never puts more than ``n``
calls into *any* window of ``w`` seconds, so it also satisfies the service's fixed windows or token
buckets, and it still runs at the full documented rate (unlike a token bucket, whose initial burst
plus refill can exceed the limit).

Why not pyrate-limiter: its blocking mode sleeps with ``time.sleep`` / ``asyncio.sleep`` itself and
leaks buckets from a background thread; mdekit needs the wait returned as a number so the sync and
async clients (and tests driving a virtual clock) decide how to sleep. The log is ~60 lines.

Buckets are ``family + limit``: operations of one family with the same limits share a bucket
(``alerts.list`` and ``alerts.get``), stricter ones (``alerts.batch_update`` 10/min) get their own.
Sharing is the safe choice while the service's counting scope is unverified (service-facts §5.3).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from mdekit.catalog import Limit, Operation

__all__ = ["RateLimiter", "bucket_key"]


def bucket_key(op: Operation) -> str:
    """The bucket an operation counts against: its family plus its limits."""
    return f"{op.family}:{op.limit.per_minute}/{op.limit.per_hour}"


def _windows(limit: Limit) -> tuple[tuple[float, int], ...]:
    out: list[tuple[float, int]] = []
    if limit.per_minute:
        out.append((60.0, limit.per_minute))
    if limit.per_hour:
        out.append((3600.0, limit.per_hour))
    return tuple(out)


class RateLimiter:
    """Per-bucket sliding windows shared by every thread (and task) of one client.

    - ``clock``: seconds, monotonic (tests pass the emulator's virtual clock);
    - ``margin``: seconds added to each window, absorbing clock skew and network jitter;
    - ``limits``: override the catalogue's limit for an operation (e.g. a tenant with its own quota).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        margin: float = 0.5,
        limits: Callable[[Operation], Limit] | None = None,
    ) -> None:
        self.clock = clock
        self.margin = margin
        self._limits = limits or (lambda op: op.limit)
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, float], deque[float]] = {}

    def reserve(self, op: Operation) -> float:
        """Book the next free slot for *op* and return the seconds to wait until it (0 = now)."""
        windows = _windows(self._limits(op))
        if not windows:
            return 0.0
        key = bucket_key(op)
        with self._lock:
            now = self.clock()
            slot = now
            logs = [(self._log(key, w), w + self.margin, n) for w, n in windows]
            for log, span, n in logs:
                while log and log[0] <= now - span:
                    log.popleft()
                if log:
                    slot = max(slot, log[-1])  # first come, first served
                if len(log) >= n:
                    slot = max(slot, log[-n] + span)
            for log, _, _ in logs:
                log.append(slot)
            return slot - now

    def _log(self, key: str, window: float) -> deque[float]:
        return self._logs.setdefault((key, window), deque())

    def reset(self) -> None:
        """Forget every booking."""
        with self._lock:
            self._logs.clear()
