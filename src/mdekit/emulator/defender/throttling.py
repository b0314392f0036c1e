"""Per app, tenant and operation call limits over sliding windows on the virtual clock.

Limits come from the catalogue (``Operation.limit``: per minute and per hour, service-facts §5.3).
A call over a limit is answered 429 ``TooManyRequests`` with ``Retry-After`` = whole seconds until
the oldest call in the full window leaves it. The control plane can scale limits or switch them off.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from mdekit.catalog import Operation
from mdekit.emulator.clock import VirtualClock

__all__ = ["Throttle"]

_WINDOWS = ((60.0, "per_minute"), (3600.0, "per_hour"))


class Throttle:
    """Sliding-window call counters; :meth:`hit` records a call or says how long to wait."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.enabled = True
        self.scale = 1.0
        self._calls: dict[tuple[str, str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def configure(self, *, enabled: bool | None = None, scale: float | None = None) -> None:
        """Switch limits on/off or multiply every documented limit by *scale* (> 0)."""
        if enabled is not None:
            self.enabled = enabled
        if scale is not None:
            if not scale > 0:
                raise ValueError("scale must be > 0")
            self.scale = scale

    def settings(self) -> dict[str, object]:
        """``{"enabled", "scale"}``."""
        return {"enabled": self.enabled, "scale": self.scale}

    def clear(self) -> None:
        """Forget every recorded call (settings are kept)."""
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        """Forget calls and restore the defaults (on, scale 1)."""
        self.clear()
        self.enabled, self.scale = True, 1.0

    def _limits(self, op: Operation) -> list[tuple[float, int]]:
        out = []
        for window, attr in _WINDOWS:
            documented = getattr(op.limit, attr)
            if documented is not None:
                out.append((window, max(1, math.floor(documented * self.scale))))
        return out

    def hit(self, tenant: str, app: str, op: Operation) -> int | None:
        """Record a call; ``None`` if allowed, else the ``Retry-After`` seconds (call not recorded)."""
        if not self.enabled:
            return None
        now = self.clock.time()
        limits = self._limits(op)
        horizon = max((w for w, _ in limits), default=0.0)
        with self._lock:
            calls = self._calls.setdefault((tenant, app, op.name), deque())
            while calls and calls[0] <= now - horizon:
                calls.popleft()
            wait = 0.0
            for window, limit in limits:
                inside = [t for t in calls if t > now - window] if window < horizon else list(calls)
                if len(inside) >= limit:
                    wait = max(wait, inside[len(inside) - limit] + window - now)
            if wait > 0:
                return max(1, math.ceil(wait))
            calls.append(now)
            return None
