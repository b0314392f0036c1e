"""The advanced-hunting CPU quota: each tenant's queries share a running-time budget.

The service documents "10 minutes per hour and 3 hours per day" of running time per tenant
(service-facts §6) and answers 429 when a tenant used it up ("read response body to understand
what limit was reached"). The ledger keeps each query's execution time on the virtual clock, so
tests shrink the budget (``Limits(cpu_seconds_per_hour=...)``) and advance the clock past it.
The message wording is the emulator's (the real text is not documented).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import TYPE_CHECKING

from mdekit.emulator.hunting.errors import KqlQuotaError

if TYPE_CHECKING:
    from mdekit.emulator.hunting.engine import Limits

__all__ = ["CpuLedger"]

_WINDOWS = (("cpu_seconds_per_hour", 3600.0, "01:00:00"), ("cpu_seconds_per_day", 86400.0, "1.00:00:00"))


class CpuLedger:
    """Per-tenant log of (virtual time, CPU seconds) of recent queries."""

    def __init__(self) -> None:
        self._log: dict[str, deque[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def check(self, tenant: str, now: float, limits: Limits) -> None:
        """Raise :class:`KqlQuotaError` if *tenant* used up a budget (with the seconds until it frees)."""
        with self._lock:
            log = self._log.setdefault(tenant, deque())
            while log and log[0][0] <= now - 86400.0:
                log.popleft()
            for attr, span, label in _WINDOWS:
                budget = float(getattr(limits, attr))
                recent = [(t, s) for t, s in log if t > now - span]
                if recent and sum(s for _, s in recent) >= budget:
                    retry = max(1, math.ceil(recent[0][0] + span - now))
                    raise KqlQuotaError(
                        "Advanced hunting CPU quota exceeded: the tenant's queries used "
                        f"{budget:g} seconds of running time per {label}. "
                        f"Try again in {retry} seconds.",
                        retry,
                    )

    def charge(self, tenant: str, now: float, seconds: float) -> None:
        """Record that *tenant* ran a query taking *seconds* at *now*."""
        with self._lock:
            self._log.setdefault(tenant, deque()).append((now, max(seconds, 0.0)))
