"""Every listed AADSTS error: status + Entra JSON body over HTTPS, and how each real library reports it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.identity.aio import CertificateCredential as AioCertificateCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential

from mdekit.emulator.server import EmulatorServer

MDE = "https://api.securitycenter.microsoft.com"
SCOPE = f"{MDE}/.default"


def assert_entra_error(response: httpx.Response, code: int, error: str, status: int) -> dict[str, Any]:
    """Status, no-store, and every field of Entra's error JSON."""
    assert response.status_code == status, response.text
    assert "no-store" in response.headers["cache-control"]
    body = response.json()
    assert body["error"] == error and body["error_codes"] == [code]
    assert re.match(
        rf"^AADSTS{code}: .+\r\nTrace ID: [0-9a-f-]{{36}}\r\nCorrelation ID: [0-9a-f-]{{36}}\r\n"
        r"Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$",
        body["error_description"],
        re.S,
    ), body["error_description"]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", body["timestamp"])
    assert body["trace_id"] and body["correlation_id"]
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    return dict(body)


_V2 = "/{tid}/oauth2/v2.0/token"
_ROLE_SCOPE = f"{MDE}/Machine.Read.All"
_ASSERTION = {
    "client_secret": None,
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln",
}
# name -> (code, error, status, method, path template, form changes: None deletes a field)
CASES: dict[str, tuple[int, str, int, str, str, dict[str, str | None]]] = {
    "wrong secret": (7000215, "invalid_client", 401, "POST", _V2, {"client_secret": "{keyid}"}),
    "app not in tenant": (700016, "unauthorized_client", 400, "POST", "/{other}/oauth2/v2.0/token", {}),
    "unknown app": (700016, "unauthorized_client", 400, "POST", _V2, {"client_id": str(uuid.UUID(int=1))}),
    "unknown tenant": (90002, "invalid_request", 400, "POST", f"/{uuid.UUID(int=2)}/oauth2/v2.0/token", {}),
    "unknown tenant domain": (
        90002, "invalid_request", 400, "POST", "/nowhere.onmicrosoft.com/oauth2/token",
        {"resource": MDE, "scope": None},
    ),
    "malformed tenant": (900023, "invalid_request", 400, "POST", "/contoso/oauth2/v2.0/token", {}),
    "scope not a resource": (70011, "invalid_scope", 400, "POST", _V2, {"scope": "Machine.Read.All"}),
    "scope without .default": (1002012, "invalid_scope", 400, "POST", _V2, {"scope": _ROLE_SCOPE}),
    "unknown resource": (500011, "invalid_resource", 400, "POST", _V2, {"scope": "https://example.com/.default"}),
    "unsupported grant": (70003, "unsupported_grant_type", 400, "POST", _V2, {"grant_type": "password"}),
    "missing grant_type": (900144, "invalid_request", 400, "POST", _V2, {"grant_type": None}),
    "missing scope": (900144, "invalid_request", 400, "POST", _V2, {"scope": None}),
    "no credential": (7000218, "invalid_client", 401, "POST", _V2, {"client_secret": None}),
    "bad assertion": (700027, "invalid_client", 401, "POST", _V2, _ASSERTION),
    "several resources": (
        700022, "invalid_scope", 400, "POST", _V2, {"scope": f"{SCOPE} https://graph.microsoft.com/.default"},
    ),
    "resource sent to v2": (901002, "invalid_request", 400, "POST", _V2, {"resource": MDE}),
    "GET on v2 token URL": (900561, "invalid_request", 400, "GET", _V2, {}),
    "GET on v1 token URL": (900561, "invalid_request", 400, "GET", "/{tid}/oauth2/token", {}),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_error_status_and_body(name: str, make_app: Any, make_tenant: Any, control: httpx.Client) -> None:
    code, error, status, method, template, changes = CASES[name]
    app = make_app()
    other = make_tenant("Fabrikam")
    form: dict[str, str] = {
        "grant_type": "client_credentials",
        "client_id": app["appId"],
        "client_secret": app["secret"],
        "scope": SCOPE,
    }
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value.replace("{keyid}", app["secretKeyId"])
    path = template.format(tid=app["tenantId"], other=other["tenantId"])
    response = control.request(method, path, data=form if method == "POST" else None)
    body = assert_entra_error(response, code, error, status)
    assert app["secret"] not in response.text and app["secret"] not in body["error_description"]


def test_expired_secret_7000222(make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    control.post("/_emulator/clock", json={"advanceSeconds": 181 * 86400}).raise_for_status()
    assert_entra_error(app.token_response(), 7000222, "invalid_client", 401)
    fresh = control.post(f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}/secrets", json={})
    assert fresh.status_code == 201
    app["secret"] = fresh.json()["value"]
    assert app.token_response().status_code == 200


def test_v1_missing_resource_and_discovery_errors(make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    form = {"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": app["secret"]}
    assert_entra_error(
        control.post(f"/{app['tenantId']}/oauth2/token", data=form), 900144, "invalid_request", 400
    )
    missing = control.get("/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration")
    assert_entra_error(missing, 90002, "invalid_tenant", 400)


# ---- how each real library reports them ---------------------------------------------------


def _session(emu: EmulatorServer) -> requests.Session:
    s = requests.Session()
    s.verify, s.trust_env = str(emu.ca_cert), False
    return s


def _msal(emu: EmulatorServer, tenant: str, app_id: str, credential: Any) -> dict[str, Any]:
    client = msal.ConfidentialClientApplication(
        app_id, client_credential=credential, authority=f"{emu.url}/{tenant}", instance_discovery=False,
        azure_region=False, http_client=_session(emu),
    )  # fmt: skip
    return dict(client.acquire_token_for_client(scopes=[SCOPE]))


LIBRARY_CASES = {
    # name -> (code, status, how to break the request: tenant/app/secret/scope/cert overrides)
    "wrong secret": (7000215, 401, {"secret": "wrong"}),
    "app not in tenant": (700016, 400, {"tenant": "other"}),
    "unknown resource": (500011, 400, {"scope": "https://example.com/.default"}),
    "scope without .default": (1002012, 400, {"scope": f"{MDE}/Machine.Read.All"}),
    "several resources": (700022, 400, {"scope": f"{SCOPE} https://graph.microsoft.com/.default"}),
    "bad assertion": (700027, 401, {"cert": "other"}),
}


def _inputs(
    app: Any, other_tenant: Any, client_cert: Any, other_cert: Any, how: dict[str, str]
) -> dict[str, Any]:
    tenant = other_tenant["tenantId"] if how.get("tenant") == "other" else app["tenantId"]
    cert = other_cert if how.get("cert") == "other" else None
    scopes = how.get("scope", SCOPE).split()
    return {"tenant": tenant, "secret": how.get("secret", app["secret"]), "scopes": scopes, "cert": cert}


@pytest.mark.parametrize("name", list(LIBRARY_CASES))
def test_msal_reports(
    name: str, emu: EmulatorServer, make_app: Any, make_tenant: Any, client_cert: Any, other_cert: Any
) -> None:
    code, _status, how = LIBRARY_CASES[name]
    app = make_app(certificate_pem=client_cert.cert_pem)
    i = _inputs(app, make_tenant("Fabrikam"), client_cert, other_cert, how)
    cred = {"private_key": i["cert"].key_pem, "thumbprint": i["cert"].sha1_hex} if i["cert"] else i["secret"]
    client = msal.ConfidentialClientApplication(
        app["appId"], client_credential=cred, authority=f"{emu.url}/{i['tenant']}", instance_discovery=False,
        azure_region=False, http_client=_session(emu),
    )  # fmt: skip
    result = client.acquire_token_for_client(scopes=i["scopes"])
    assert result.get("error_codes") == [code], result
    assert f"AADSTS{code}" in result["error_description"]


@pytest.mark.parametrize("name", list(LIBRARY_CASES))
def test_azure_identity_sync_reports(
    name: str, emu: EmulatorServer, make_app: Any, make_tenant: Any, client_cert: Any, other_cert: Any
) -> None:
    code, _status, how = LIBRARY_CASES[name]
    app = make_app(certificate_pem=client_cert.cert_pem)
    i = _inputs(app, make_tenant("Fabrikam"), client_cert, other_cert, how)
    common = {
        "authority": emu.url,
        "disable_instance_discovery": True,
        "connection_verify": str(emu.ca_cert),
        "retry_total": 0,
    }
    if i["cert"]:
        cred: Any = CertificateCredential(i["tenant"], app["appId"], str(i["cert"].combined), **common)
    else:
        cred = ClientSecretCredential(i["tenant"], app["appId"], i["secret"], **common)
    with pytest.raises(ClientAuthenticationError) as info:
        cred.get_token(*i["scopes"])
    assert str(info.value).startswith(f"Authentication failed: AADSTS{code}"), str(info.value)


@pytest.mark.parametrize("name", list(LIBRARY_CASES))
async def test_azure_identity_aio_reports(
    name: str, emu: EmulatorServer, make_app: Any, make_tenant: Any, client_cert: Any, other_cert: Any
) -> None:
    code, status, how = LIBRARY_CASES[name]
    app = make_app(certificate_pem=client_cert.cert_pem)
    i = _inputs(app, make_tenant("Fabrikam"), client_cert, other_cert, how)
    common = {"authority": emu.url, "connection_verify": str(emu.ca_cert), "retry_total": 0}
    if i["cert"]:
        cred: Any = AioCertificateCredential(i["tenant"], app["appId"], str(i["cert"].combined), **common)
    else:
        cred = AioClientSecretCredential(i["tenant"], app["appId"], i["secret"], **common)
    async with cred:
        with pytest.raises(ClientAuthenticationError) as info:
            await cred.get_token(*i["scopes"])
    assert f"AADSTS{code}" in str(info.value)
    assert info.value.response is not None and info.value.response.status_code == status


async def test_aio_reports_unknown_and_malformed_tenant(emu: EmulatorServer, make_app: Any) -> None:
    app = make_app()
    for tenant, code in (("11111111-2222-3333-4444-555555555555", 90002), ("contoso", 900023)):
        cred = AioClientSecretCredential(
            tenant,
            app["appId"],
            app["secret"],
            authority=emu.url,
            connection_verify=str(emu.ca_cert),
            retry_total=0,
        )
        async with cred:
            with pytest.raises(ClientAuthenticationError) as info:
                await cred.get_token(SCOPE)
        assert f"AADSTS{code}" in str(info.value)


def test_msal_and_sync_report_unknown_tenant_at_discovery(emu: EmulatorServer, make_app: Any) -> None:
    app = make_app()
    bad = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        _msal(emu, bad, app["appId"], app["secret"])
    common = {"disable_instance_discovery": True, "connection_verify": str(emu.ca_cert), "retry_total": 0}
    cred = ClientSecretCredential(bad, app["appId"], app["secret"], authority=emu.url, **common)
    with pytest.raises(ClientAuthenticationError, match="Unable to get authority configuration"):
        cred.get_token(SCOPE)
