"""Fault plans: answer matching requests with an error status, a delay or a dropped connection.

PLACEHOLDER: filled in by the Defender API work (issue 3).
"""

from __future__ import annotations

from typing import Any

from mdekit.emulator.clock import VirtualClock

__all__ = ["FaultMiddleware", "FaultPlans"]


class FaultPlans:
    """The active fault plans."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def clear(self) -> None:
        """Remove every plan."""


class FaultMiddleware:
    """ASGI middleware applying :class:`FaultPlans` before the routes see a request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
