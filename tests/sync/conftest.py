"""Sync test fixtures: a reset emulator with a frozen clock (helpers in sync_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sync_helpers import World

from mdekit.emulator.server import EmulatorServer


@pytest.fixture
def world(emu: EmulatorServer) -> Iterator[World]:
    """A reset emulator with no tenants yet (the clock frozen: runs are deterministic)."""
    emu.state.clock.freeze()
    w = World(emu)
    yield w
    w.close()
