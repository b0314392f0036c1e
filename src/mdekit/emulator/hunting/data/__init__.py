"""Generated hunting data: a tenant's world (:mod:`.world`), what its endpoints run
(:mod:`.catalog`) and the SQL that turns both into the hunting tables (:mod:`.build`)."""

from __future__ import annotations

from mdekit.emulator.hunting.data.build import BUILDERS, build_table
from mdekit.emulator.hunting.data.world import World

__all__ = ["BUILDERS", "World", "build_table", "new_world"]


def new_world(tenant: str, anchor_us: int) -> World:
    """An empty world for *tenant* whose 30-day window ends at *anchor_us* (loaded on first use)."""
    return World(tenant, anchor_us)
