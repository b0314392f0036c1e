"""Shared fixtures: a real HTTPS emulator per test session, reset before every test.

Area-specific fixtures live in each test folder's own conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mdekit.emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def emu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """One emulator on a real HTTPS socket (127.0.0.1, random port) for the whole session."""
    state_dir = tmp_path_factory.mktemp("emulator-home")
    with EmulatorServer(state_dir=state_dir, data=state_dir / "emulator.db") as server:
        yield server


@pytest.fixture
def emu(emu_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session emulator, reset (fresh directory, data, faults, journal, clock) for this test."""
    emu_server.state.reset()
    emu_server.state.clock.set(emu_server.state.clock.time())  # keep time, drop nothing else
    yield emu_server
    emu_server.state.reset()


@pytest.fixture
def ca_pem(emu_server: EmulatorServer) -> Path:
    """The emulator's CA certificate."""
    return emu_server.ca_cert


@pytest.fixture
def control(emu: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client for the emulator's base URL (control plane and everything else)."""
    with httpx.Client(base_url=emu.url, verify=str(emu.ca_cert), timeout=30) as client:
        yield client
