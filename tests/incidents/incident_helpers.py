"""Helpers for the incidents and Graph security tests: a tenant with one HTTPS client per API.

Every client carries a token from the emulator's own token endpoint (client credentials) for an
app registered through the control plane: WindowsDefenderATP for ``/api/alerts``, Microsoft
Threat Protection for ``/api/incidents``, Microsoft Graph for ``/v1.0/security``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.emulator.server import EmulatorServer

MDE_URI = MDE.identifier_uris[0]
MTP_URI = MTP.identifier_uris[0]
GRAPH_URI = GRAPH.identifier_uris[0]
ALL_PERMISSIONS: list[Any] = [
    "Alert.ReadWrite.All",
    "Machine.Read.All",
    "AdvancedQuery.Read.All",
    *({"resource": MTP_URI, "role": r} for r in MTP.roles),
    *({"resource": GRAPH_URI, "role": r} for r in GRAPH.roles),
]


@dataclass
class Sec:
    """A seeded tenant and clients for its three APIs (``mde``, ``xdr``, ``graph``)."""

    emu: EmulatorServer
    control: httpx.Client
    make_app: Callable[..., Any]
    tenant: str
    mde: httpx.Client = field(init=False)
    xdr: httpx.Client = field(init=False)
    graph: httpx.Client = field(init=False)
    _opened: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None) -> httpx.Client:
        """An HTTPS client for the emulator sending *token* (none when ``None``)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(
            base_url=self.emu.url,
            headers=headers,
            verify=ssl.create_default_context(cafile=str(self.emu.ca_cert)),
            timeout=60,
        )
        self._opened.append(client)
        return client

    def client_for(self, resource: str, roles: list[str]) -> httpx.Client:
        """A client whose token (for *resource*) holds exactly *roles*."""
        perms = [r if resource == MDE_URI else {"resource": resource, "role": r} for r in roles]
        app = self.make_app(permissions=perms, tenant=self.tenant, display_name="roles " + ",".join(roles))
        return self.client(app.token(resource))

    def seed(self, machines: int, alerts: int, seed: int = 11) -> dict[str, Any]:
        """Replace the tenant's data with a generated one."""
        body = {"machines": machines, "alerts": alerts, "seed": seed}
        response = self.control.post(f"/_emulator/tenants/{self.tenant}/seed", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def close(self) -> None:
        for client in self._opened:
            client.close()


def follow(client: httpx.Client, url: str, limit: int = 50) -> list[dict[str, Any]]:
    """Every page from *url* on, following ``@odata.nextLink`` verbatim; returns the pages' bodies."""
    pages = []
    while url and len(pages) < limit:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = pages[-1].get("@odata.nextLink")
    return pages
