"""Sync test fixtures: a reset emulator with a frozen clock (helpers in sync_helpers.py)."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator

import pytest
from pg_server import PostgresServer, unavailable
from sync_helpers import World

from mdekit.emulator.server import EmulatorServer


@pytest.fixture
def world(emu: EmulatorServer) -> Iterator[World]:
    """A reset emulator with no tenants yet (the clock frozen: runs are deterministic)."""
    emu.state.clock.freeze()
    w = World(emu)
    yield w
    w.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster for the session (skips, or fails under MDEKIT_REQUIRE_POSTGRES=1)."""
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        server.stop()
        unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh database in the session's cluster."""
    return pg_server.database(f"t{next(_DB_NUMBERS)}_{os.getpid()}")


_DB_NUMBERS = itertools.count(1)
