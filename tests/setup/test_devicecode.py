"""The device code flow over HTTPS: start, every polling answer on the virtual clock, approval and
decline through the control plane and the sign-in page, consent rules, v1, refresh tokens, and the
claims a delegated token carries."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest
from signin_helpers import (
    AZURE_CLI,
    DEVICE_GRANT,
    GRAPH_CLI,
    add_user,
    approve,
    poll,
    sign_in,
    start,
)

from mdekit.catalog import DIRECTORY_ROLES
from mdekit.emulator.server import EmulatorServer


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _error(r: httpx.Response) -> tuple[int, str, list[int]]:
    body = r.json()
    return r.status_code, body["error"], body.get("error_codes", [])


def test_device_authorization_answer_has_the_documented_fields(
    control: httpx.Client, tenant: dict[str, Any]
) -> None:
    flow = start(control, tenant["tenantId"])
    body = flow.body
    assert list(body) == ["user_code", "device_code", "verification_uri", "expires_in", "interval", "message"]
    assert "verification_uri_complete" not in body  # not supported by Entra (v2 device code page)
    assert (body["expires_in"], body["interval"]) == (900, 5)  # Entra's defaults
    assert len(body["user_code"]) == 9 and body["user_code"].isalnum() and body["user_code"].isupper()
    assert body["verification_uri"].endswith("/devicelogin") and body["user_code"] in body["message"]
    assert len(body["device_code"]) > 100
    discovery = control.get(f"/{tenant['tenantId']}/v2.0/.well-known/openid-configuration").json()
    assert discovery["device_authorization_endpoint"].endswith(
        f"/{tenant['tenantId']}/oauth2/v2.0/devicecode"
    )


def test_reset_brings_back_entras_interval_and_lifetime(control: httpx.Client, make_tenant: Any) -> None:
    settings = {"interval": 1, "expiresIn": 60}
    assert control.post("/_emulator/devicecode/settings", json=settings).json() == settings
    assert start(control, make_tenant("A")["tenantId"]).body["interval"] == 1
    assert control.post("/_emulator/reset").status_code == 204
    assert control.get("/_emulator/devicecode/settings").json() == {"interval": 5, "expiresIn": 900}
    assert start(control, make_tenant("B")["tenantId"]).body["interval"] == 5


def test_pending_then_approved_then_used_up(control: httpx.Client, tenant: dict[str, Any]) -> None:
    flow = start(control, tenant["tenantId"])
    first = poll(control, flow)
    assert _error(first) == (400, "authorization_pending", [70016])
    assert first.json()["error_description"].startswith("AADSTS70016: ")
    assert first.headers["cache-control"] == "no-store, no-cache"
    assert approve(control, flow, f"admin@{tenant['domain']}").status_code == 200
    control.post("/_emulator/clock", json={"advanceSeconds": 5})  # a client waits `interval`
    done = poll(control, flow)
    assert done.status_code == 200, done.text
    body = done.json()
    assert list(body)[:5] == ["token_type", "scope", "expires_in", "ext_expires_in", "access_token"]
    assert body["scope"].split() == [
        "https://graph.microsoft.com/Application.ReadWrite.All",
        "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
        "openid",
        "profile",
    ]
    assert {"refresh_token", "id_token"} <= set(body)  # offline_access and openid were asked for
    again = poll(control, flow)
    assert _error(again) == (400, "invalid_grant", [70000])


def test_polling_faster_than_the_interval_is_told_to_slow_down(
    control: httpx.Client, tenant: dict[str, Any]
) -> None:
    control.post("/_emulator/clock", json={"now": "2026-01-01T10:00:00Z"})
    flow = start(control, tenant["tenantId"])
    assert _error(poll(control, flow))[1] == "authorization_pending"  # the first poll may come at once
    assert _error(poll(control, flow))[1] == "slow_down"  # 0 s later: too fast
    # the interval grew by 5 s (RFC 8628 §3.5): 6 s later is still too fast, 10 s is not
    control.post("/_emulator/clock", json={"advanceSeconds": 6})
    assert _error(poll(control, flow))[1] == "slow_down"
    control.post("/_emulator/clock", json={"advanceSeconds": 15})
    assert _error(poll(control, flow))[1] == "authorization_pending"


def test_code_expires_on_the_virtual_clock(control: httpx.Client, tenant: dict[str, Any]) -> None:
    flow = start(control, tenant["tenantId"])
    control.post("/_emulator/clock", json={"advanceSeconds": 899})
    assert _error(poll(control, flow))[1] == "authorization_pending"
    control.post("/_emulator/clock", json={"advanceSeconds": 2})
    assert _error(poll(control, flow)) == (400, "expired_token", [70019])
    late = approve(control, flow, f"admin@{tenant['domain']}")
    assert late.status_code == 400 and "expired" in late.json()["detail"]


def test_declined_sign_in(control: httpx.Client, tenant: dict[str, Any]) -> None:
    flow = start(control, tenant["tenantId"])
    r = control.post("/_emulator/devicecode/decline", json={"userCode": flow.user_code.lower()})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert _error(poll(control, flow))[:2] == (400, "authorization_declined")
    twice = approve(control, flow, f"admin@{tenant['domain']}")
    assert twice.status_code == 400 and "already used" in twice.json()["detail"]


def test_unknown_or_foreign_device_code_is_a_bad_verification_code(
    control: httpx.Client, tenant: dict[str, Any]
) -> None:
    flow = start(control, tenant["tenantId"])
    form = {"client_id": GRAPH_CLI, "grant_type": DEVICE_GRANT, "device_code": "DAQABnot-a-code"}
    r = control.post(f"/{tenant['tenantId']}/oauth2/v2.0/token", data=form)
    assert _error(r) == (400, "bad_verification_code", [70018])
    other_client = {"client_id": AZURE_CLI, "grant_type": DEVICE_GRANT, "device_code": flow.device_code}
    r = control.post(f"/{tenant['tenantId']}/oauth2/v2.0/token", data=other_client)
    assert _error(r)[1] == "bad_verification_code"


def test_a_user_without_an_admin_role_cannot_consent_to_admin_scopes(
    control: httpx.Client, tenant: dict[str, Any]
) -> None:
    bob = add_user(control, tenant, "bob")
    flow = start(control, tenant["tenantId"])
    answer = approve(control, flow, bob)
    assert answer.status_code == 200 and answer.json()["status"] == "consent_required"
    r = poll(control, flow)
    status, error, codes = _error(r)
    assert (status, error, codes) == (400, "invalid_grant", [65001])
    assert r.json()["suberror"] == "consent_required"
    assert "Microsoft Graph Command Line Tools" in r.json()["error_description"]
    # User.Read needs no administrator
    assert "access_token" in sign_in(control, tenant["tenantId"], bob, scope="User.Read openid")
    # once an administrator consents for the organization, bob may use the scopes too
    sign_in(control, tenant["tenantId"], f"admin@{tenant['domain']}", consentForOrganization=True)
    token = sign_in(control, tenant["tenantId"], bob)["access_token"]
    assert _claims(token)["scp"] == "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All"
    not_admin = approve(control, start(control, tenant["tenantId"]), bob, consentForOrganization=True)
    assert not_admin.status_code == 400 and "not an administrator" in not_admin.json()["detail"]


def test_delegated_token_carries_the_user(control: httpx.Client, tenant: dict[str, Any]) -> None:
    alex = add_user(control, tenant, "alex.wilber", "Cloud Application Administrator", "Security Reader")
    users = control.get(f"/_emulator/tenants/{tenant['tenantId']}/users").json()["value"]
    alex_id = next(u["id"] for u in users if u["userPrincipalName"] == alex)
    body = sign_in(control, tenant["tenantId"], alex)
    claims = _claims(body["access_token"])
    assert claims["aud"] == "https://graph.microsoft.com" and claims["ver"] == "1.0"
    assert (
        claims["iss"] == f"https://sts.windows.net/{tenant['tenantId']}/"
        and claims["tid"] == tenant["tenantId"]
    )
    assert (claims["idtyp"], claims["appid"], claims["appidacr"]) == ("user", GRAPH_CLI, "0")
    assert claims["app_displayname"] == "Microsoft Graph Command Line Tools"
    assert (claims["oid"], claims["upn"], claims["unique_name"]) == (alex_id, alex, alex)
    assert claims["name"] == "Alex.Wilber" and "roles" not in claims
    assert DIRECTORY_ROLES["Cloud Application Administrator"] in claims["wids"]
    assert DIRECTORY_ROLES["Security Reader"] in claims["wids"]
    assert 3600 <= claims["exp"] - claims["iat"] - 300 <= 5400  # 60-90 minutes
    id_token = _claims(body["id_token"])
    assert (id_token["aud"], id_token["ver"], id_token["preferred_username"]) == (GRAPH_CLI, "2.0", alex)
    info = json.loads(base64.urlsafe_b64decode(body["client_info"] + "==")) if "client_info" in body else None
    assert info is None  # only when the client asks with client_info=1
    flow = start(control, tenant["tenantId"])
    approve(control, flow, alex)
    with_info = poll(control, flow, client_info="1").json()
    info = json.loads(base64.urlsafe_b64decode(with_info["client_info"] + "=="))
    assert info == {"uid": alex_id, "utid": tenant["tenantId"]}


def test_bare_scope_names_mean_microsoft_graph_and_the_audience_is_its_app_id(
    control: httpx.Client, tenant: dict[str, Any]
) -> None:
    body = sign_in(control, tenant["tenantId"], f"admin@{tenant['domain']}", scope="Application.Read.All")
    claims = _claims(body["access_token"])
    assert claims["aud"] == "00000003-0000-0000-c000-000000000000" and claims["scp"] == "Application.Read.All"
    assert body["scope"] == "Application.Read.All" and "refresh_token" not in body


@pytest.mark.parametrize(
    ("scope", "error", "code"),
    [
        ("https://graph.microsoft.com/No.Such.Scope", "invalid_scope", 70011),
        (
            "https://graph.microsoft.com/User.Read https://api.securitycenter.microsoft.com/Alert.Read",
            "invalid_scope",
            700022,
        ),
        ("https://example.com/Read", "invalid_resource", 500011),
        ("", "invalid_request", 900144),
    ],
)
def test_bad_scopes_are_refused_when_the_flow_starts(
    control: httpx.Client, tenant: dict[str, Any], scope: str, error: str, code: int
) -> None:
    r = control.post(
        f"/{tenant['tenantId']}/oauth2/v2.0/devicecode", data={"client_id": GRAPH_CLI, "scope": scope}
    )
    assert _error(r) == (400, error, [code])


def test_clients_public_and_confidential(
    control: httpx.Client, tenant: dict[str, Any], make_app: Any
) -> None:
    tid = tenant["tenantId"]
    unknown = control.post(
        f"/{tid}/oauth2/v2.0/devicecode",
        data={"client_id": "6e3a2f0e-0000-4000-8000-000000000001", "scope": "User.Read"},
    )
    assert _error(unknown) == (400, "unauthorized_client", [700016])
    r = control.post(
        f"/_emulator/tenants/{tid}/applications",
        json={"displayName": "my cli", "publicClient": True, "grantConsent": False},
    )
    assert r.status_code == 201 and r.json()["secret"] is None and r.json()["publicClient"] is True
    own = r.json()["appId"]
    flow = start(control, tid, "https://graph.microsoft.com/User.Read", client_id=own)
    approve(control, flow, f"admin@{tenant['domain']}")
    with_secret = poll(control, flow, client_secret="not-for-a-public-client")
    assert _error(with_secret) == (401, "invalid_client", [700025])
    assert poll(control, flow).status_code == 200
    confidential = make_app(permissions=["Alert.Read.All"], tenant=tid)
    flow = start(control, tid, "https://graph.microsoft.com/User.Read", client_id=confidential["appId"])
    assert _error(poll(control, flow)) == (401, "invalid_client", [7000218])
    refused = control.post(
        f"/_emulator/tenants/{tid}/applications",
        json={"displayName": "x", "publicClient": True, "secret": True},
    )
    assert refused.status_code == 400


def test_v1_device_code_flow_as_adal_sends_it(control: httpx.Client, tenant: dict[str, Any]) -> None:
    tid = tenant["tenantId"]
    r = control.post(
        f"/{tid}/oauth2/devicecode", data={"client_id": AZURE_CLI, "resource": "https://graph.microsoft.com"}
    )
    body = r.json()
    assert r.status_code == 200 and body["verification_url"].endswith("/devicelogin")
    assert (body["expires_in"], body["interval"]) == ("900", "5")  # v1 numbers are strings
    form = {
        "client_id": AZURE_CLI,
        "grant_type": "device_code",
        "code": body["device_code"],
        "resource": "https://graph.microsoft.com",
    }
    assert control.post(f"/{tid}/oauth2/token", data=form).json()["error"] == "authorization_pending"
    control.post(
        "/_emulator/devicecode/approve",
        json={"userCode": body["user_code"], "userPrincipalName": f"admin@{tenant['domain']}"},
    )
    control.post("/_emulator/clock", json={"advanceSeconds": 5})
    token = control.post(f"/{tid}/oauth2/token", data=form).json()
    assert token["resource"] == "https://graph.microsoft.com" and token["expires_in"].isdigit()
    assert {"refresh_token", "id_token", "expires_on", "not_before"} <= set(token)
    assert "Application.ReadWrite.All" in _claims(token["access_token"])["scp"].split()
    r = control.post(
        f"/{tid}/oauth2/devicecode", data={"client_id": AZURE_CLI, "resource": "https://graph.microsoft.com"}
    )
    control.post("/_emulator/clock", json={"advanceSeconds": 901})
    late = {**form, "code": r.json()["device_code"]}
    assert control.post(f"/{tid}/oauth2/token", data=late).json()["error"] == "code_expired"  # ADAL's v1 name


def test_refresh_token_gets_a_token_for_another_resource(
    control: httpx.Client, tenant: dict[str, Any]
) -> None:
    tid = tenant["tenantId"]
    first = sign_in(control, tid, f"admin@{tenant['domain']}", client_id=AZURE_CLI)
    form = {"client_id": AZURE_CLI, "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "scope": "https://api.securitycenter.microsoft.com/Machine.Read offline_access"}  # fmt: skip
    r = control.post(f"/{tid}/oauth2/v2.0/token", data=form)
    assert r.status_code == 200, r.text
    claims = _claims(r.json()["access_token"])
    assert claims["aud"] == "https://api.securitycenter.microsoft.com" and claims["scp"] == "Machine.Read"
    assert r.json()["refresh_token"] != first["refresh_token"]
    bad = control.post(f"/{tid}/oauth2/v2.0/token", data={**form, "refresh_token": "1.AQABnope"})
    assert _error(bad) == (400, "invalid_grant", [70000])


def test_sign_in_at_organizations_finds_the_tenant_by_the_user(
    control: httpx.Client, tenant: dict[str, Any], make_tenant: Any
) -> None:
    make_tenant("Fabrikam")
    flow = start(control, "organizations")
    approve(control, flow, f"admin@{tenant['domain']}")
    r = poll(control, flow)
    assert r.status_code == 200 and _claims(r.json()["access_token"])["tid"] == tenant["tenantId"]


def test_sign_in_page(emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]) -> None:
    flow = start(control, tenant["tenantId"])
    page = control.get("/devicelogin")
    assert page.status_code == 200 and "Enter code" in page.text
    wrong = control.post("/devicelogin", data={"code": "NOPE12345", "upn": "x@y.z", "decision": "accept"})
    assert wrong.status_code == 400 and "no sign-in is waiting" in wrong.text
    ok = control.post(
        "/devicelogin",
        data={"code": flow.user_code, "upn": f"admin@{tenant['domain']}", "decision": "accept"},
    )
    assert ok.status_code == 200 and "signed in" in ok.text
    assert poll(control, flow).status_code == 200


def test_users_of_the_control_plane(control: httpx.Client, tenant: dict[str, Any]) -> None:
    tid, domain = tenant["tenantId"], tenant["domain"]
    users = control.get(f"/_emulator/tenants/{tid}/users").json()["value"]
    assert [(u["userPrincipalName"], u["directoryRoles"]) for u in users] == [
        (f"admin@{domain}", ["Global Administrator"])
    ]
    r = control.post(
        f"/_emulator/tenants/{tid}/users",
        json={
            "userPrincipalName": f"eve@{domain}",
            "displayName": "Eve",
            "directoryRoles": ["privileged role administrator"],
        },
    )
    assert r.status_code == 201 and list(r.json()) == ["id", "userPrincipalName"]
    for body, words in (
        ({"userPrincipalName": "eve@elsewhere.com"}, "must end with"),
        ({"userPrincipalName": f"eve@{domain}"}, "exists already"),
        ({"userPrincipalName": f"zed@{domain}", "directoryRoles": ["Wizard"]}, "known roles"),
        ({"displayName": "no upn"}, "userPrincipalName is required"),
    ):
        r = control.post(f"/_emulator/tenants/{tid}/users", json=body)
        assert r.status_code == 400 and words in r.json()["detail"], (body, r.text)
    assert (
        control.post(
            "/_emulator/tenants/nope.example.com/users", json={"userPrincipalName": "a@b.c"}
        ).status_code
        == 404
    )
    assert approve(control, start(control, tid), f"ghost@{domain}").status_code == 404
