"""Fixtures for device-code sign-ins, Graph application management and `mde setup`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from signin_helpers import graph_client, sign_in

from mdekit.emulator.server import EmulatorServer


@pytest.fixture
def tenant(make_tenant: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A new tenant (with its ``admin@<domain>`` Global Administrator)."""
    return make_tenant("Contoso")


@pytest.fixture
def graph_for(emu: EmulatorServer, control: httpx.Client) -> Iterator[Callable[..., httpx.Client]]:
    """``graph_for(tenant, upn, scope=...)``: a Graph client signed in as *upn* (device code)."""
    opened: list[httpx.Client] = []

    def _make(tenant: dict[str, Any], upn: str, **kw: Any) -> httpx.Client:
        token = sign_in(control, tenant["tenantId"], upn, **kw)["access_token"]
        client = graph_client(emu.url, str(emu.ca_cert), token)
        opened.append(client)
        return client

    yield _make
    for client in opened:
        client.close()


@pytest.fixture
def admin_graph(tenant: dict[str, Any], graph_for: Callable[..., httpx.Client]) -> httpx.Client:
    """Graph as the tenant's Global Administrator, with the scopes `mde setup` asks for."""
    return graph_for(tenant, f"admin@{tenant['domain']}")
