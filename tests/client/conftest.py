"""Client tests: a tenant + app registered once per module in the session emulator, and client builders.

Module-scoped (seeding 25,000 alerts per test would be slow), so these tests do not use the per-test
``emu`` reset fixture; each module resets the emulator once when it starts.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mdekit.catalog import MDE
from mdekit.client.defender import AsyncDefender, Defender
from mdekit.client.transport import AsgiTransport
from mdekit.emulator.server import EmulatorServer

ALL_ROLES = [r for r in MDE.roles]


class Env:
    """One emulator tenant with apps, plus helpers to build clients against it."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.state = server.state
        tls = ssl.create_default_context(cafile=str(server.ca_cert))
        self.control = httpx.Client(base_url=server.url, verify=tls, timeout=60)
        self._transport: AsgiTransport | None = None
        self.tenant = self._post("/_emulator/tenants", {"displayName": "Client Tests"})
        self.tid = self.tenant["tenantId"]

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.control.post(path, json=body)
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    def app(self, permissions: list[str] | None = None, tenant: str | None = None) -> dict[str, Any]:
        """Register an app with *permissions* (default: every WindowsDefenderATP role), consented."""
        body = {
            "displayName": "client tests",
            "permissions": ALL_ROLES if permissions is None else permissions,
            "grantConsent": True,
            "secret": True,
        }
        created = self._post(f"/_emulator/tenants/{tenant or self.tid}/applications", body)
        return {"tenant": tenant or self.tid, "appId": created["appId"], "secret": created["secret"]["value"]}

    @property
    def asgi(self) -> AsgiTransport:
        """One in-process transport to the emulator app (shared by this module's clients)."""
        if self._transport is None:
            from mdekit.emulator.app import create_app

            self._transport = AsgiTransport(create_app(self.state))
        return self._transport

    def advance(self, seconds: float) -> None:
        """Move the emulator's virtual clock (used as the clients' sleep)."""
        self.state.clock.advance(seconds)

    def client(self, app: dict[str, Any], *, socket: bool = False, **kw: Any) -> Defender:
        """A sync client for *app*; in-process by default (API and token requests), over the HTTPS
        socket with ``socket=True``."""
        kw.setdefault("clock", self.state.clock.time)
        kw.setdefault("sleep", self.advance)
        return Defender.from_secret(
            app["tenant"],
            app["appId"],
            app["secret"],
            base_url=self.server.url,
            authority=self.server.url,
            verify=str(self.server.ca_cert),
            transport=None if socket else self.asgi,
            token_transport=None if socket else self.asgi,
            **kw,
        )

    def aclient(self, app: dict[str, Any], **kw: Any) -> AsyncDefender:
        """An async client over the real HTTPS socket."""
        kw.setdefault("clock", self.state.clock.time)
        kw.setdefault("sleep", self.advance)
        return AsyncDefender.from_secret(
            app["tenant"],
            app["appId"],
            app["secret"],
            base_url=self.server.url,
            authority=self.server.url,
            verify=str(self.server.ca_cert),
            **kw,
        )

    def seed(self, body: dict[str, Any], tenant: str | None = None) -> dict[str, Any]:
        """Seed Defender data for the tenant through the control plane."""
        return self._post(f"/_emulator/tenants/{tenant or self.tid}/seed", body)

    def faults(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Install a fault plan."""
        return self._post("/_emulator/faults", plan)

    def close(self) -> None:
        self.control.close()
        if self._transport is not None:
            self._transport.shutdown()


@pytest.fixture(scope="module")
def env(emu_server: EmulatorServer) -> Iterator[Env]:
    """A fresh emulator state with one tenant, for this module."""
    emu_server.state.reset()
    e = Env(emu_server)
    yield e
    e.close()
    emu_server.state.reset()


@pytest.fixture(scope="module")
def full_app(env: Env) -> dict[str, Any]:
    """An app holding every WindowsDefenderATP application permission."""
    return env.app()


@pytest.fixture
def client(env: Env, full_app: dict[str, Any]) -> Iterator[Defender]:
    """An in-process sync client with every permission."""
    with env.client(full_app) as c:
        yield c


ClientFactory = Callable[..., Defender]
