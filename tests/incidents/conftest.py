"""Fixtures for incidents and Graph security: a seeded tenant over real HTTPS, one client per API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from incident_helpers import ALL_PERMISSIONS, GRAPH_URI, MDE_URI, MTP_URI, Sec

from mdekit.emulator.server import EmulatorServer


def _sec(
    emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any], alerts: int
) -> Iterator[Sec]:
    app = make_app(permissions=ALL_PERMISSIONS, display_name="SOC automation")
    sec = Sec(emu, control, make_app, app["tenantId"])
    sec.mde, sec.xdr, sec.graph = (sec.client(app.token(r)) for r in (MDE_URI, MTP_URI, GRAPH_URI))
    sec.seed(30, alerts)
    yield sec
    sec.close()


@pytest.fixture
def sec(emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any]) -> Iterator[Sec]:
    """A tenant seeded with 30 machines and 150 alerts (~70 incidents), and clients for its APIs."""
    yield from _sec(emu, control, make_app, 150)


@pytest.fixture
def big(emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any]) -> Iterator[Sec]:
    """Like :func:`sec` with 320 alerts: more than 100 incidents (the XDR page) and 50 (Graph's)."""
    yield from _sec(emu, control, make_app, 320)
