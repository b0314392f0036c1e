"""Defender for Endpoint data (alerts, machines, actions, indicators, ...) - SQLite, no HTTP.

PLACEHOLDER: filled in by the Defender API work (issue 3).
"""

from __future__ import annotations

from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.db import Database

__all__ = ["DefenderStore"]


class DefenderStore:
    """Per-tenant Defender records."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock

    def reset(self) -> None:
        """Delete every Defender record."""
