"""Shared fixtures: a real HTTPS emulator per test session, reset before every test.

Area-specific fixtures live in each test folder's own conftest.py.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

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
    emu_server.state.clock.unfreeze()
    emu_server.state.clock.set(time.time())  # back to real time: a test may have moved the clock
    yield emu_server
    emu_server.state.reset()


@pytest.fixture
def ca_pem(emu_server: EmulatorServer) -> Path:
    """The emulator's CA certificate."""
    return emu_server.ca_cert


@pytest.fixture
def control(emu: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client for the emulator's base URL (control plane and everything else)."""
    with httpx.Client(
        base_url=emu.url, verify=ssl.create_default_context(cafile=str(emu.ca_cert)), timeout=30
    ) as client:
        yield client


# ---- directory fixtures (Entra side; owned by the token-service work) ------------------------

MDE_RESOURCE = "https://api.securitycenter.microsoft.com"


class EmulatedApp(dict[str, Any]):
    """An app registration in the emulator: a dict of its ids plus token helpers.

    Keys: ``tenantId``, ``domain``, ``appId``, ``objectId``, ``displayName``, ``multiTenant``,
    ``grantedRoles``, ``secret`` (the secret VALUE or ``None``), ``secretKeyId``,
    ``certificate`` (``{"thumbprintSha1", "thumbprintSha256"}`` or ``None``), ``url`` (emulator
    base URL), ``caCert`` (path of the CA to trust, as ``str``).
    """

    def __init__(self, data: dict[str, Any], client: httpx.Client) -> None:
        super().__init__(data)
        self._client = client

    @property
    def authority(self) -> str:
        """``https://127.0.0.1:<port>/<tenantId>`` (what msal wants as ``authority``)."""
        return f"{self['url']}/{self['tenantId']}"

    def token_response(
        self, resource: str = MDE_RESOURCE, *, version: str = "v2", tenant: str | None = None
    ) -> httpx.Response:
        """POST a client-secret token request (v2 ``scope=<resource>/.default`` or v1 ``resource=``)."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self["appId"],
            "client_secret": self["secret"],
        }
        if version == "v2":
            form["scope"] = f"{resource}/.default"
            path = "oauth2/v2.0/token"
        else:
            form["resource"] = resource
            path = "oauth2/token"
        return self._client.post(f"/{tenant or self['tenantId']}/{path}", data=form)

    def token(self, resource: str = MDE_RESOURCE, *, version: str = "v2", tenant: str | None = None) -> str:
        """A fresh access token for *resource* (raises ``AssertionError`` with the body on failure)."""
        response = self.token_response(resource, version=version, tenant=tenant)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def headers(self, resource: str = MDE_RESOURCE, tenant: str | None = None) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` for calling the emulated API."""
        return {"Authorization": f"Bearer {self.token(resource, tenant=tenant)}"}


@pytest.fixture
def make_tenant(control: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Factory: ``make_tenant("Fabrikam") -> {"tenantId", "displayName", "domain"}`` (a new tenant)."""

    def _make(display_name: str = "Contoso") -> dict[str, Any]:
        response = control.post("/_emulator/tenants", json={"displayName": display_name})
        assert response.status_code == 201, response.text
        return dict(response.json())

    return _make


@pytest.fixture
def make_app(
    emu: EmulatorServer, control: httpx.Client, make_tenant: Callable[..., dict[str, Any]]
) -> Callable[..., EmulatedApp]:
    """Factory registering an app in the (reset) session emulator through its control plane.

    ``make_app(permissions=["Alert.Read.All"], multi_tenant=False, grant_consent=True, secret=True,
    certificate_pem=None, tenant=None, display_name="mdekit test app") -> EmulatedApp``

    * ``permissions``: WindowsDefenderATP role names (or ``{"resource", "role"}`` dicts for
      Microsoft Threat Protection / Graph roles); requested, and granted when ``grant_consent``.
    * ``tenant``: a tenant id or domain; ``None`` uses this test's default tenant ("Contoso",
      created on first use and shared by every ``make_app`` call of the test). Make other tenants
      with the ``make_tenant`` fixture.
    * ``secret``: create a client secret (its value is in ``app["secret"]``).
    * ``certificate_pem``: register this public certificate too (PEM text).

    The result is a dict (``tenantId``, ``domain``, ``appId``, ``objectId``, ``secret``,
    ``grantedRoles``, ``url``, ``caCert`` ...) with helpers: ``app.token(resource=...,
    version="v2"|"v1", tenant=None) -> str``, ``app.token_response(...) -> httpx.Response``,
    ``app.headers() -> {"Authorization": "Bearer ..."}`` and ``app.authority``.
    """
    default: dict[str, dict[str, Any]] = {}

    def _make(
        permissions: Iterable[Any] = ("Alert.Read.All",),
        multi_tenant: bool = False,
        grant_consent: bool = True,
        secret: bool = True,
        certificate_pem: str | None = None,
        tenant: str | None = None,
        display_name: str = "mdekit test app",
    ) -> EmulatedApp:
        if tenant is None:
            if "t" not in default:
                default["t"] = make_tenant("Contoso")
            tenant_info = default["t"]
        else:
            found = control.get("/_emulator/tenants").json()["value"]
            tenant_info = next(t for t in found if tenant.lower() in (t["tenantId"], t["domain"].lower()))
        body = {
            "displayName": display_name,
            "multiTenant": multi_tenant,
            "permissions": list(permissions),
            "grantConsent": grant_consent,
            "secret": secret,
            "certificatePem": certificate_pem,
        }
        response = control.post(f"/_emulator/tenants/{tenant_info['tenantId']}/applications", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        data = {
            **created,
            "domain": tenant_info["domain"],
            "secret": created["secret"]["value"] if created["secret"] else None,
            "secretKeyId": created["secret"]["keyId"] if created["secret"] else None,
            "url": emu.url,
            "caCert": str(emu.ca_cert),
        }
        return EmulatedApp(data, control)

    return _make
