"""Graph application management over HTTPS: every operation with and without its permission
(delegated scopes and application roles), the directory's envelopes and codes, the directory roles
a signed-in user needs, and one directory shared with the token service and the Defender API."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from signin_helpers import (
    ALERT_READ,
    MACHINE_ISOLATE,
    THREAT_HUNTING,
    add_user,
    app_body,
    grant,
    graph_client,
    resource_sp,
    sign_in,
)

from mdekit.auth.credentials import CertificateCredential
from mdekit.catalog import GRAPH, MDE, MTP, OPERATIONS, operation
from mdekit.emulator.server import EmulatorServer

GRAPH_URI = "https://graph.microsoft.com"
MDE_URI = "https://api.securitycenter.microsoft.com"
DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


@dataclass
class Ids:
    """Objects one test works on: an app, its service principal, a grant and a secret."""

    app: dict[str, Any]
    sp: dict[str, Any]
    resource: dict[str, Any]
    assignment: str
    key_id: str


def _make_ids(graph: httpx.Client) -> Ids:
    app = graph.post("/applications", json=app_body()).json()
    sp = graph.post("/servicePrincipals", json={"appId": app["appId"]}).json()
    resource = resource_sp(graph)
    assignment = grant(graph, resource, sp["id"], ALERT_READ).json()["id"]
    key_id = graph.post(f"/applications/{app['id']}/addPassword", json={}).json()["keyId"]
    return Ids(app, sp, resource, assignment, key_id)


CALLS: dict[str, Callable[[Ids], tuple[str, dict[str, Any] | None]]] = {
    "graph_apps.list": lambda i: ("/applications?$filter=displayName eq 'mde-client'", None),
    "graph_apps.create": lambda i: ("/applications", app_body("second")),
    "graph_apps.get": lambda i: (f"/applications/{i.app['id']}", None),
    "graph_apps.get_by_app_id": lambda i: (f"/applications(appId='{i.app['appId']}')", None),
    "graph_apps.update": lambda i: (f"/applications/{i.app['id']}", {"notes": "x"}),
    "graph_apps.update_by_app_id": lambda i: (f"/applications(appId='{i.app['appId']}')", {"notes": "y"}),
    "graph_apps.delete": lambda i: (f"/applications/{i.app['id']}", None),
    "graph_apps.delete_by_app_id": lambda i: (f"/applications(appId='{i.app['appId']}')", None),
    "graph_apps.add_password": lambda i: (f"/applications/{i.app['id']}/addPassword", {}),
    "graph_apps.add_password_by_app_id": lambda i: (
        f"/applications(appId='{i.app['appId']}')/addPassword",
        {},
    ),
    "graph_apps.remove_password": lambda i: (
        f"/applications/{i.app['id']}/removePassword",
        {"keyId": i.key_id},
    ),
    "graph_sps.list": lambda i: ("/servicePrincipals", None),
    "graph_sps.create": lambda i: ("/servicePrincipals", {"appId": _second_app(i)}),
    "graph_sps.get": lambda i: (f"/servicePrincipals/{i.sp['id']}", None),
    "graph_sps.get_by_app_id": lambda i: (f"/servicePrincipals(appId='{MDE.app_id}')", None),
    "graph_sps.role_assignments": lambda i: (f"/servicePrincipals/{i.sp['id']}/appRoleAssignments", None),
    "graph_grants.list": lambda i: (f"/servicePrincipals/{i.resource['id']}/appRoleAssignedTo", None),
    "graph_grants.create": lambda i: (
        f"/servicePrincipals/{i.resource['id']}/appRoleAssignedTo",
        {"principalId": i.sp["id"], "resourceId": i.resource["id"], "appRoleId": MACHINE_ISOLATE},
    ),
    "graph_grants.create_by_app_id": lambda i: (
        f"/servicePrincipals(appId='{MDE.app_id}')/appRoleAssignedTo",
        {"principalId": i.sp["id"], "resourceId": i.resource["id"], "appRoleId": MACHINE_ISOLATE},
    ),
    "graph_grants.delete": lambda i: (
        f"/servicePrincipals/{i.resource['id']}/appRoleAssignedTo/{i.assignment}",
        None,
    ),
}
_SECOND: dict[str, str] = {}


def _second_app(ids: Ids) -> str:
    return _SECOND["appId"]


def test_every_graph_application_operation_is_covered() -> None:
    ours = {n for n in OPERATIONS if n.split(".")[0] in ("graph_apps", "graph_sps", "graph_grants")}
    assert sorted(CALLS) == sorted(ours)


def _call(graph: httpx.Client, name: str, ids: Ids) -> httpx.Response:
    path, body = CALLS[name](ids)
    return graph.request(operation(name).method, path, json=body)


@pytest.fixture
def ids(admin_graph: httpx.Client) -> Ids:
    made = _make_ids(admin_graph)
    _SECOND["appId"] = admin_graph.post("/applications", json=app_body("spare")).json()["appId"]
    return made


@pytest.mark.parametrize("name", sorted(CALLS))
def test_operation_with_and_without_its_delegated_scope(
    name: str,
    ids: Ids,
    tenant: dict[str, Any],
    graph_for: Callable[..., httpx.Client],
    admin_graph: httpx.Client,
) -> None:
    op = operation(name)
    reader = graph_for(tenant, f"admin@{tenant['domain']}", scope="User.Read")
    refused = _call(reader, name, ids)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["message"]) == DENIED
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    allowed = _call(admin_graph, name, ids)
    expected = {"POST": 201 if name.endswith(("create", "create_by_app_id")) else 200, "GET": 200,
                "PATCH": 204, "DELETE": 204}[op.method]  # fmt: skip
    if name == "graph_apps.remove_password":
        expected = 204
    assert allowed.status_code == expected, allowed.text
    assert allowed.headers["request-id"]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_operation_with_and_without_its_application_role(
    name: str, ids: Ids, emu: EmulatorServer, make_app: Callable[..., Any], tenant: dict[str, Any]
) -> None:
    op = operation(name)
    other = make_app(
        permissions=[{"resource": GRAPH_URI, "role": "ThreatHunting.Read.All"}], tenant=tenant["tenantId"]
    )
    roles = [{"resource": GRAPH_URI, "role": r} for r in (op.roles[0], *op.also[:1])]
    allowed_app = make_app(permissions=roles, tenant=tenant["tenantId"], display_name="automation")
    with (
        graph_client(emu.url, str(emu.ca_cert), other.token(GRAPH_URI)) as refused_graph,
        graph_client(emu.url, str(emu.ca_cert), allowed_app.token(GRAPH_URI)) as graph,
    ):
        refused = _call(refused_graph, name, ids)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"
        assert _call(graph, name, ids).status_code < 300


def test_registered_through_graph_is_what_the_token_service_and_the_api_serve(
    admin_graph: httpx.Client, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenantId"]
    created = admin_graph.post("/applications", json=app_body(roles=(ALERT_READ, MACHINE_ISOLATE)))
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["@odata.context"].endswith("/v1.0/$metadata#applications/$entity")
    assert (app["displayName"], app["signInAudience"], app["publisherDomain"]) == (
        "mde-client", "AzureADMyOrg", tenant["domain"],
    )  # fmt: skip
    seen = control.get(f"/_emulator/tenants/{tid}/applications/{app['appId']}").json()
    assert seen["permissions"] == ["Alert.Read.All", "Machine.Isolate"] and seen["grantedRoles"] == []
    secret = admin_graph.post(
        f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "ci"}}
    ).json()
    assert secret["displayName"] == "ci" and secret["hint"] == secret["secretText"][:3]
    form = {
        "grant_type": "client_credentials",
        "client_id": app["appId"],
        "client_secret": secret["secretText"],
        "scope": f"{MDE_URI}/.default",
    }
    no_sp = control.post(f"/{tid}/oauth2/v2.0/token", data=form)
    assert no_sp.json()["error_codes"] == [700016]  # Graph created no service principal yet
    sp = admin_graph.post("/servicePrincipals", json={"appId": app["appId"]}).json()
    token = control.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["access_token"]
    assert "roles" not in jwt.decode(token, options={"verify_signature": False})  # nothing granted yet
    resource = resource_sp(admin_graph)
    assert grant(admin_graph, resource, sp["id"], ALERT_READ).status_code == 201
    token = control.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["roles"] == ["Alert.Read.All"]
    assert control.get("/api/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = admin_graph.get(f"/servicePrincipals/{resource['id']}/appRoleAssignedTo").json()["value"]
    (assignment,) = [a for a in listed if a["principalId"] == sp["id"]]
    assert (
        admin_graph.delete(
            f"/servicePrincipals/{resource['id']}/appRoleAssignedTo/{assignment['id']}"
        ).status_code
        == 204
    )
    token = control.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["access_token"]
    assert "roles" not in jwt.decode(token, options={"verify_signature": False})
    assert (
        admin_graph.post(
            f"/applications/{app['id']}/removePassword", json={"keyId": secret["keyId"]}
        ).status_code
        == 204
    )
    assert control.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["error_codes"] == [7000215]
    assert admin_graph.delete(f"/applications(appId='{app['appId']}')").status_code == 204
    assert control.get(f"/_emulator/tenants/{tid}/applications/{app['appId']}").status_code == 404


def test_grant_answers_as_graph_documents(admin_graph: httpx.Client) -> None:
    ids = _make_ids(admin_graph)
    r = grant(admin_graph, ids.resource, ids.sp["id"], MACHINE_ISOLATE)
    body = r.json()
    assert r.status_code == 201 and list(body)[:2] == ["@odata.context", "id"]
    assert body["@odata.context"].endswith(
        f"servicePrincipals('{ids.resource['id']}')/appRoleAssignedTo/$entity"
    )
    raw = base64.urlsafe_b64decode(body["id"] + "=")
    assert len(body["id"]) == 43 and raw[:16] == uuid.UUID(ids.sp["id"]).bytes_le
    assert (body["principalType"], body["resourceDisplayName"], body["principalDisplayName"]) == (
        "ServicePrincipal", "WindowsDefenderATP", "mde-client",
    )  # fmt: skip
    again = grant(admin_graph, ids.resource, ids.sp["id"], MACHINE_ISOLATE)
    assert again.status_code == 400 and again.json()["error"] == {
        **again.json()["error"], "code": "Request_BadRequest",
        "message": "Permission being assigned already exists on the object",
    }  # fmt: skip
    wrong_role = grant(admin_graph, ids.resource, ids.sp["id"], "41269fc2-0000-4000-8000-000000000000")
    assert (
        wrong_role.status_code == 400 and "not found on application" in wrong_role.json()["error"]["message"]
    )
    unknown = grant(admin_graph, ids.resource, "6e3a2f0e-0000-4000-8000-000000000001", ALERT_READ)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "Request_ResourceNotFound"


def test_built_in_service_principals_carry_the_real_role_ids(admin_graph: httpx.Client) -> None:
    for resource in (MDE, MTP, GRAPH):
        sp = admin_graph.get(f"/servicePrincipals(appId='{resource.app_id}')").json()
        assert sp["displayName"] == resource.name and sp["appOwnerOrganizationId"]
        assert {r["value"]: r["id"] for r in sp["appRoles"]} == resource.role_ids
        assert all(r["allowedMemberTypes"] == ["Application"] for r in sp["appRoles"])
        assert {s["value"]: s["id"] for s in sp["oauth2PermissionScopes"]} == resource.scopes
    wdatp = admin_graph.get(f"/servicePrincipals(appId='{MDE.app_id}')").json()
    roles = {r["value"]: r["id"] for r in wdatp["appRoles"]}
    # service-facts-2 §4.2, checked against two real tenants' dumps
    assert roles["Machine.Read.All"] == "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79"
    assert roles["AdvancedQuery.Read.All"] == "93489bf5-0fbc-4f2d-b901-33f2fe08ff05"
    assert roles["Machine.Isolate"] == "7e4e1300-e1b9-4102-88ba-f0cb6e6d5974"
    everyone = admin_graph.get("/servicePrincipals", params={"$count": "true"}).json()
    names = {sp["displayName"] for sp in everyone["value"]}
    assert {"Microsoft Azure CLI", "Microsoft Graph Command Line Tools", "Microsoft Graph"} <= names
    assert everyone["@odata.count"] == len(everyone["value"])


def test_second_service_principal_conflicts(admin_graph: httpx.Client) -> None:
    r = admin_graph.post("/servicePrincipals", json={"appId": MDE.app_id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert MDE.app_id in r.json()["error"]["message"]
    bad = admin_graph.post("/servicePrincipals", json={"appId": "6e3a2f0e-0000-4000-8000-000000000001"})
    assert (
        bad.status_code == 400 and "does not reference a valid application" in bad.json()["error"]["message"]
    )


def test_multi_tenant_app_gets_a_principal_and_consent_in_a_customer_tenant(
    admin_graph: httpx.Client,
    make_tenant: Callable[..., dict[str, Any]],
    graph_for: Callable[..., httpx.Client],
    control: httpx.Client,
) -> None:
    app = admin_graph.post("/applications", json=app_body(signInAudience="AzureADMultipleOrgs")).json()
    admin_graph.post("/servicePrincipals", json={"appId": app["appId"]})
    secret = admin_graph.post(f"/applications/{app['id']}/addPassword", json={}).json()["secretText"]
    single = admin_graph.post("/applications", json=app_body("single")).json()
    customer = make_tenant("Fabrikam")
    customer_graph = graph_for(customer, f"admin@{customer['domain']}")
    refused = customer_graph.post("/servicePrincipals", json={"appId": single["appId"]})
    assert refused.status_code == 400
    sp = customer_graph.post("/servicePrincipals", json={"appId": app["appId"]})
    assert sp.status_code == 201 and sp.json()["appOwnerOrganizationId"] != customer["tenantId"]
    assert grant(customer_graph, resource_sp(customer_graph), sp.json()["id"], ALERT_READ).status_code == 201
    form = {"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": secret,
            "scope": f"{MDE_URI}/.default"}  # fmt: skip
    token = control.post(f"/{customer['tenantId']}/oauth2/v2.0/token", data=form).json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["tid"], claims["roles"]) == (customer["tenantId"], ["Alert.Read.All"])
    assert customer_graph.get(f"/applications/{app['id']}").status_code == 404  # lives in its home tenant


def test_directory_roles_a_user_needs(
    tenant: dict[str, Any],
    control: httpx.Client,
    graph_for: Callable[..., httpx.Client],
    admin_graph: httpx.Client,
) -> None:
    # An administrator consented Graph's app-management scopes for everyone once (as many tenants do).
    sign_in(control, tenant["tenantId"], f"admin@{tenant['domain']}", consentForOrganization=True)
    bob = graph_for(tenant, add_user(control, tenant, "bob"))
    own = bob.post("/applications", json=app_body("bobs app"))
    assert own.status_code == 201  # any member may register an app, and owns it
    assert bob.patch(f"/applications/{own.json()['id']}", json={"notes": "mine"}).status_code == 204
    sp = bob.post("/servicePrincipals", json={"appId": own.json()["appId"]})
    assert sp.status_code == 201
    denied = grant(bob, resource_sp(bob), sp.json()["id"], ALERT_READ)
    assert (
        denied.status_code == 403
        and (denied.json()["error"]["code"], denied.json()["error"]["message"]) == DENIED
    )
    others = admin_graph.post("/applications", json=app_body("admins app")).json()
    assert bob.patch(f"/applications/{others['id']}", json={"notes": "x"}).status_code == 403
    assert bob.delete(f"/applications/{others['id']}").status_code == 403
    assert bob.post(f"/applications/{others['id']}/addPassword", json={}).status_code == 403
    # Cloud Application Administrators grant WindowsDefenderATP roles, not Microsoft Graph's
    cloud = graph_for(tenant, add_user(control, tenant, "carol", "Cloud Application Administrator"))
    assert grant(cloud, resource_sp(cloud), sp.json()["id"], ALERT_READ).status_code == 201
    graph_sp = resource_sp(cloud, GRAPH.app_id)
    assert grant(cloud, graph_sp, sp.json()["id"], THREAT_HUNTING).status_code == 403
    pra = graph_for(tenant, add_user(control, tenant, "pat", "Privileged Role Administrator"))
    assert grant(pra, graph_sp, sp.json()["id"], THREAT_HUNTING).status_code == 201


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"signInAudience": "AzureADMyOrg"}, "displayName' is required"),
        (app_body(passwordCredentials=[{"displayName": "x"}]), "use addPassword"),
        (app_body(signInAudience="PersonalMicrosoftAccount"), "not emulated"),
        (app_body(roles=("41269fc2-7d26-4f7e-8f10-3b6b2c1a9e55",)), "is not defined by WindowsDefenderATP"),
        (
            {
                **app_body(),
                "requiredResourceAccess": [
                    {"resourceAppId": "6e3a2f0e-0000-4000-8000-000000000001", "resourceAccess": []}
                ],
            },
            "not a resource",
        ),
        (app_body(appRoles=[]), "not emulated"),
        (app_body(wibble=1), "does not exist on type"),
        (
            app_body(
                keyCredentials=[{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}]
            ),
            "invalid",
        ),
    ],
)
def test_bad_application_bodies(admin_graph: httpx.Client, body: dict[str, Any], words: str) -> None:
    r = admin_graph.post("/applications", json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "Request_BadRequest", r.text
    assert words in r.json()["error"]["message"]
    assert (
        admin_graph.get("/applications", params={"$filter": "displayName eq 'mde-client'"}).json()["value"]
        == []
    )


def test_unknown_objects_are_not_found(admin_graph: httpx.Client) -> None:
    ghost = "6e3a2f0e-0000-4000-8000-000000000001"
    for path in (f"/applications/{ghost}", f"/applications(appId='{ghost}')", f"/servicePrincipals/{ghost}"):
        r = admin_graph.get(path)
        assert r.status_code == 404, path
        error = r.json()["error"]
        assert error["code"] == "Request_ResourceNotFound"
        assert error["message"] == (
            f"Resource '{ghost}' does not exist or one of its queried reference-property objects "
            "are not present."
        )


def test_certificate_credentials_through_patch(
    admin_graph: httpx.Client, emu: EmulatorServer, tenant: dict[str, Any], client_cert: Any
) -> None:
    ids = _make_ids(admin_graph)
    cert = x509.load_pem_x509_certificate(client_cert.cert_pem.encode())
    key = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    cred = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": key, "displayName": "CN=mdekit"}
    assert (
        admin_graph.patch(f"/applications/{ids.app['id']}", json={"keyCredentials": [cred]}).status_code
        == 204
    )
    app = admin_graph.get(f"/applications/{ids.app['id']}").json()
    (listed,) = app["keyCredentials"]
    assert (listed["key"], listed["customKeyIdentifier"], listed["type"]) == (
        None, client_cert.sha1_hex.upper(), "AsymmetricX509Cert",
    )  # fmt: skip
    credential = CertificateCredential(
        tenant["tenantId"],
        ids.app["appId"],
        str(client_cert.combined),
        authority=emu.url,
        verify=str(emu.ca_cert),
    )
    token = credential.get_token(f"{MDE_URI}/.default").token
    assert jwt.decode(token, options={"verify_signature": False})["appidacr"] == "2"
    # PATCH replaces the collection: naming the keyId keeps it, leaving it out removes it
    assert (
        admin_graph.patch(
            f"/applications/{ids.app['id']}", json={"keyCredentials": [{"keyId": listed["keyId"]}]}
        ).status_code
        == 204
    )
    assert len(admin_graph.get(f"/applications/{ids.app['id']}").json()["keyCredentials"]) == 1
    assert admin_graph.patch(f"/applications/{ids.app['id']}", json={"keyCredentials": []}).status_code == 204
    assert admin_graph.get(f"/applications/{ids.app['id']}").json()["keyCredentials"] == []


def test_application_list_filters_and_pages(admin_graph: httpx.Client) -> None:
    for n in range(3):
        admin_graph.post("/applications", json=app_body(f"app {n}"))
    page = admin_graph.get("/applications", params={"$top": "2", "$count": "true"}).json()
    assert len(page["value"]) == 2 and page["@odata.count"] == 3 and "$skiptoken" in page["@odata.nextLink"]
    rest = admin_graph.get(page["@odata.nextLink"]).json()
    assert [a["displayName"] for a in rest["value"]] == ["app 2"]
    one = admin_graph.get("/applications", params={"$filter": "displayName eq 'app 1'"}).json()["value"]
    assert [a["displayName"] for a in one] == ["app 1"]
    bad = admin_graph.get("/applications", params={"$filter": "owner eq 'x'"})
    assert bad.status_code == 400
