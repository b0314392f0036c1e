"""Shared set-up for the client benchmarks: an in-process emulator, a tenant, an app, a client.

Everything runs in this process through :class:`mdekit.client.transport.AsgiTransport` (no sockets),
on the emulator's virtual clock where time matters.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from mdekit.catalog import MDE
from mdekit.client.defender import Defender
from mdekit.client.transport import AsgiTransport
from mdekit.emulator.app import create_app
from mdekit.emulator.state import EmulatorState

BASE = "https://127.0.0.1"


class Bench:
    """An in-memory emulator with one tenant and one all-permissions app."""

    def __init__(self) -> None:
        self.state = EmulatorState.open(None)
        self.transport = AsgiTransport(create_app(self.state))
        self.control = httpx.Client(base_url=BASE, transport=self.transport, timeout=600)
        self.tid = self.post("/_emulator/tenants", {"displayName": "Bench"})["tenantId"]
        body = {"displayName": "bench", "permissions": list(MDE.roles), "grantConsent": True, "secret": True}
        created = self.post(f"/_emulator/tenants/{self.tid}/applications", body)
        self.app_id, self.secret = created["appId"], created["secret"]["value"]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.control.post(path, json=body)
        if r.status_code >= 300:
            raise SystemExit(f"{path}: HTTP {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def seed(self, **body: Any) -> Any:
        """Seed Defender data (``machines=``, ``alerts=``)."""
        return self.post(f"/_emulator/tenants/{self.tid}/seed", body)

    def client(self, **kw: Any) -> Defender:
        """A sync client for the app, in-process."""
        return Defender.from_secret(
            self.tid, self.app_id, self.secret, base_url=BASE, authority=BASE, transport=self.transport,
            token_transport=self.transport, **kw
        )

    def token(self) -> str:
        """A raw access token (for the bare-httpx baselines)."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self.secret,
            "scope": "https://api.securitycenter.microsoft.com/.default",
        }
        r = self.control.post(f"/{self.tid}/oauth2/v2.0/token", data=form)
        return str(r.json()["access_token"])

    def close(self) -> None:
        self.control.close()
        self.transport.shutdown()
        self.state.close()


def timed(fn: Any) -> tuple[float, Any]:
    """(seconds, result) of ``fn()``."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out
