"""Helpers for the sign-in and app-registration tests: device-code sign-ins and Graph clients.

Everything goes over the real HTTPS socket of the session emulator: the device code request and
poll as a client sends them, the approval as the control plane takes it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from mdekit.catalog import FIRST_PARTY_CLIENTS, GRAPH, MDE

GRAPH_CLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
assert {GRAPH_CLI, AZURE_CLI} <= set(FIRST_PARTY_CLIENTS)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SETUP_SCOPES = (
    "https://graph.microsoft.com/Application.ReadWrite.All "
    "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All openid profile offline_access"
)
WDATP_SP = MDE.app_id
ALERT_READ = MDE.role_ids["Alert.Read.All"]
MACHINE_ISOLATE = MDE.role_ids["Machine.Isolate"]
THREAT_HUNTING = GRAPH.role_ids["ThreatHunting.Read.All"]


@dataclass
class Flow:
    """A started device-code flow: the client's answer and how to poll it."""

    tenant: str
    client_id: str
    body: dict[str, Any]
    version: str = "v2"

    @property
    def user_code(self) -> str:
        return str(self.body["user_code"])

    @property
    def device_code(self) -> str:
        return str(self.body["device_code"])


def start(control: httpx.Client, tenant: str, scope: str = SETUP_SCOPES, client_id: str = GRAPH_CLI) -> Flow:
    """POST /{tenant}/oauth2/v2.0/devicecode (asserting 200)."""
    r = control.post(f"/{tenant}/oauth2/v2.0/devicecode", data={"client_id": client_id, "scope": scope})
    assert r.status_code == 200, r.text
    return Flow(tenant, client_id, r.json())


def poll(control: httpx.Client, flow: Flow, **extra: str) -> httpx.Response:
    """One poll of the v2 token endpoint with the flow's device code."""
    form = {"client_id": flow.client_id, "grant_type": DEVICE_GRANT, "device_code": flow.device_code, **extra}
    return control.post(f"/{flow.tenant}/oauth2/v2.0/token", data=form)


def approve(control: httpx.Client, flow: Flow, upn: str, **extra: Any) -> httpx.Response:
    return control.post(
        "/_emulator/devicecode/approve", json={"userCode": flow.user_code, "userPrincipalName": upn, **extra}
    )


def sign_in(
    control: httpx.Client,
    tenant: str,
    upn: str,
    scope: str = SETUP_SCOPES,
    client_id: str = GRAPH_CLI,
    **approve_extra: Any,
) -> dict[str, Any]:
    """A whole device-code sign-in as *upn*; returns the token answer (asserting 200)."""
    flow = start(control, tenant, scope, client_id)
    assert approve(control, flow, upn, **approve_extra).status_code == 200
    r = poll(control, flow)
    assert r.status_code == 200, r.text
    return dict(r.json())


def add_user(control: httpx.Client, tenant: dict[str, Any], name: str, *roles: str) -> str:
    """A user ``name@<domain>`` with directory *roles*; returns the UPN."""
    upn = f"{name}@{tenant['domain']}"
    r = control.post(
        f"/_emulator/tenants/{tenant['tenantId']}/users",
        json={"userPrincipalName": upn, "displayName": name.title(), "directoryRoles": list(roles)},
    )
    assert r.status_code == 201, r.text
    return upn


def graph_client(url: str, ca: str, token: str) -> httpx.Client:
    """An httpx client on ``<emulator>/v1.0`` with *token*."""
    return httpx.Client(
        base_url=f"{url}/v1.0",
        verify=ssl.create_default_context(cafile=ca),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def app_body(
    name: str = "mde-client", roles: tuple[str, ...] = (ALERT_READ,), **extra: Any
) -> dict[str, Any]:
    """A POST /applications body asking for WindowsDefenderATP app roles."""
    access = [{"id": r, "type": "Role"} for r in roles]
    return {
        "displayName": name,
        "signInAudience": "AzureADMyOrg",
        "requiredResourceAccess": [{"resourceAppId": MDE.app_id, "resourceAccess": access}],
        **extra,
    }


def resource_sp(graph: httpx.Client, app_id: str = WDATP_SP) -> dict[str, Any]:
    r = graph.get("/servicePrincipals", params={"$filter": f"appId eq '{app_id}'"})
    assert r.status_code == 200, r.text
    (found,) = r.json()["value"]
    return dict(found)


def grant(graph: httpx.Client, resource: dict[str, Any], principal_id: str, role_id: str) -> httpx.Response:
    return graph.post(
        f"/servicePrincipals/{resource['id']}/appRoleAssignedTo",
        json={"principalId": principal_id, "resourceId": resource["id"], "appRoleId": role_id},
    )
