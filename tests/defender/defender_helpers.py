"""Helpers for the Defender API tests: tokens, app registration and a tenant-bound client.

Tokens come from the real token service when the directory offers it (``make_app`` in the root
conftest); until then they are minted with the emulator's signer with the claims a real v1 MDE
token carries (service-facts §2.3) -- same key, same verification path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastapi.routing
from fastapi.testclient import TestClient

from mdekit.catalog import MDE
from mdekit.emulator.state import EmulatorState

ALL_ROLES = tuple(r for r in MDE.roles if r != "SecurityBaselinesAssessment.Read.All")


def mint(
    state: EmulatorState,
    tenant: str,
    roles: tuple[str, ...] | list[str],
    *,
    app_id: str,
    aud: str = "https://api.securitycenter.microsoft.com",
    lifetime: int = 3600,
    **extra: Any,
) -> str:
    """A hand-made v1 token signed by the emulator's key (for expired/foreign/odd-claim cases)."""
    now = int(state.clock.time())
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{tenant}:{app_id}"))
    claims = {
        "aud": aud,
        "iss": f"https://sts.windows.net/{tenant}/",
        "iat": now - 300,
        "nbf": now - 300,
        "exp": now + lifetime,
        "app_displayname": "mdekit tests",
        "appid": app_id,
        "appidacr": "1",
        "idp": f"https://sts.windows.net/{tenant}/",
        "oid": oid,
        "roles": list(roles),
        "sub": oid,
        "tid": tenant,
        "ver": "1.0",
        **extra,
    }
    return state.signer.mint(claims)


class Api:
    """A TestClient bound to one tenant's token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.request(method, path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


def register_app(
    state: EmulatorState, tenant: str, roles: tuple[str, ...] | list[str], name: str = "mdekit tests"
) -> str:
    """Register an app in *tenant* requesting *roles* and consent to them; returns its app id."""
    app = state.directory.create_application(tenant, name, permissions=list(roles))
    state.directory.consent(tenant, app.app_id)
    return app.app_id


def real_token(
    client: TestClient,
    state: EmulatorState,
    tenant: str,
    roles: tuple[str, ...] | list[str],
    name: str = "mdekit tests",
) -> str:
    """A token from the emulator's token endpoint (client credentials, v2) for a new app with *roles*."""
    app_id = register_app(state, tenant, roles, name)
    secret = state.directory.add_secret(tenant, app_id)["value"]
    response = client.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret,
            "scope": "https://api.securitycenter.microsoft.com/.default",
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@dataclass(frozen=True)
class ApiRoute:
    """One service route of the emulator app: method, path template, the catalogue operation its
    ``require(...)`` dependency enforces (``None`` where the route checks access itself)."""

    method: str
    path: str
    required: str | None


#: Path prefixes of the emulated services' APIs (MDE and XDR ``/api``, Graph ``/v1.0``); the
#: rest is the token service and the control plane, which the catalogue does not describe.
SERVICE_PREFIXES = ("/api/", "/v1.0/")


@cache
def api_routes() -> tuple[ApiRoute, ...]:
    """Every ``/api`` and ``/v1.0`` route of a freshly built emulator app (built once per process)."""
    from mdekit.emulator.app import create_app

    state = EmulatorState.open(None)
    try:
        app = create_app(state)
        # Recent FastAPI releases keep included routers as lazy branches that iter_route_contexts
        # flattens; older ones list plain APIRoute objects in app.routes.
        flatten = getattr(fastapi.routing, "iter_route_contexts", None)
        routes = list(flatten(app.routes)) if flatten else list(app.routes)
        found = []
        for route in routes:
            path = getattr(route, "path", "")
            if not path.startswith(SERVICE_PREFIXES):
                continue
            dependant = getattr(route, "dependant", None)
            names = [d.call.__name__ for d in dependant.dependencies] if dependant else []
            required = next((n for n in names if n.startswith("require_")), None)
            for method in sorted(set(route.methods or ()) - {"HEAD", "OPTIONS"}):
                found.append(ApiRoute(method, path, required))
        return tuple(found)
    finally:
        state.close()


def require_name(op_name: str) -> str:
    """The name ``mdekit.emulator.defender.auth.require`` gives its dependency for *op_name*."""
    return f"require_{op_name.replace('.', '_')}"
