"""Helpers of the sync tests: tenants in the emulator, sources over the client, the emulator's truth.

Each tenant gets an app with the permissions a sync needs (alerts, machines, incidents on the
XDR resource, vulnerabilities). Clients run in-process (ASGI) by default for speed; the
subprocess tests go over the real socket.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from mdekit.catalog import MDE, MTP
from mdekit.client.defender import Defender
from mdekit.client.transport import AsgiTransport
from mdekit.emulator.server import EmulatorServer
from mdekit.sync.entities import ENTITIES, Entity
from mdekit.sync.source import Source

PERMISSIONS: list[Any] = [
    "Alert.Read.All",
    "Machine.Read.All",
    "Vulnerability.Read.All",
    "AdvancedQuery.Read.All",
    *({"resource": MTP.identifier_uris[0], "role": r} for r in ("Incident.Read.All",)),
]
_ = MDE


class World:
    """The emulator, its tenants (id -> app secret) and helpers a sync test needs."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.state = server.state
        self.control = httpx.Client(
            base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_cert)), timeout=120
        )
        self.apps: dict[str, dict[str, Any]] = {}
        self._asgi: AsgiTransport | None = None

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        r = self.control.post(path, json=body or {})
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def tenant(self, name: str = "Contoso", *, machines: int = 20, alerts: int = 100, seed: int = 1) -> str:
        """A tenant with an app and seeded data; returns its id."""
        tid = self.post("/_emulator/tenants", {"displayName": name})["tenantId"]
        app = self.post(
            f"/_emulator/tenants/{tid}/applications",
            {"displayName": "sync", "permissions": PERMISSIONS, "grantConsent": True, "secret": True},
        )
        self.apps[tid] = {"appId": app["appId"], "secret": app["secret"]["value"]}
        if machines:
            self.post(
                f"/_emulator/tenants/{tid}/seed", {"machines": machines, "alerts": alerts, "seed": seed}
            )
        return tid

    @property
    def asgi(self) -> AsgiTransport:
        if self._asgi is None:
            from mdekit.emulator.app import create_app

            self._asgi = AsgiTransport(create_app(self.state))
        return self._asgi

    def client(self, tid: str, *, socket: bool = False, **kw: Any) -> Defender:
        app = self.apps[tid]
        kw.setdefault("clock", self.state.clock.time)
        kw.setdefault("sleep", self.state.clock.advance)
        return Defender.from_secret(
            tid, app["appId"], app["secret"], base_url=self.server.url, authority=self.server.url,
            verify=str(self.server.ca_cert), transport=None if socket else self.asgi,
            token_transport=None if socket else self.asgi, **kw,
        )  # fmt: skip

    def source(
        self, tid: str, *, page_size: int | None = None, hunting_row_limit: int | None = None, **kw: Any
    ) -> Source:
        return Source(tid, self.client(tid, **kw), page_size=page_size, hunting_row_limit=hunting_row_limit)

    def advance(self, seconds: float) -> None:
        """Move the virtual clock through the control plane (the activity generator follows)."""
        self.post("/_emulator/clock", {"advanceSeconds": seconds})

    def truth(self, tid: str, entity: Entity) -> dict[str, str]:
        """``{id: version}`` of the emulator's own data (read from its stores, not the API)."""
        from mdekit.sync.entities import normalize_time

        d = self.state.defender
        if entity.name == "alerts":
            return {a["id"]: normalize_time(a["lastUpdateTime"]) for a in d.iter_alerts(tid)}
        if entity.name == "machines":
            return {m["id"]: normalize_time(m["lastSeen"]) for m in d.iter_machines(tid)}
        if entity.name == "incidents":
            rows = self.state.db.query(
                "SELECT id, last_update_time FROM def_incidents WHERE tenant = tk(?)", (tid,)
            )
            return {str(r["id"]): normalize_time(r["last_update_time"]) for r in rows}
        raise AssertionError(entity.name)

    def close(self) -> None:
        self.control.close()
        if self._asgi is not None:
            self._asgi.shutdown()


ALERTS, MACHINES, INCIDENTS = ENTITIES["alerts"], ENTITIES["machines"], ENTITIES["incidents"]
