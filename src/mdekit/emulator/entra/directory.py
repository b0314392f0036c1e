"""The emulated directory (tenants, apps, credentials, service principals, grants) - SQLite, no HTTP.

PLACEHOLDER: filled in by the token-service work (issue 2).
"""

from __future__ import annotations

from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.db import Database

__all__ = ["DirectoryStore"]


class DirectoryStore:
    """Tenants, app registrations, credentials, service principals and app-role grants."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock

    def reset(self) -> None:
        """Delete every directory object."""
