"""Consent makes a multi-tenant app usable in a customer tenant (only there); secrets stay secret."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mdekit.emulator.server import EmulatorServer

MDE = "https://api.securitycenter.microsoft.com"


def _consent_form(page: str) -> dict[str, str]:
    """The hidden fields of the consent page's form."""
    return dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page))


def test_v1_consent_link_flow_enables_only_that_tenant(
    make_app: Any, make_tenant: Any, control: httpx.Client, verify_token: Any
) -> None:
    app = make_app(permissions=["Alert.Read.All"], multi_tenant=True)
    customer, bystander = make_tenant("Customer"), make_tenant("Bystander")
    assert app.token_response(tenant=customer["tenantId"]).json()["error_codes"] == [700016]
    page = control.get(
        "/common/oauth2/authorize",
        params={
            "prompt": "consent",
            "client_id": app["appId"],
            "response_type": "code",
            "sso_reload": "true",
        },
    )
    assert page.status_code == 200 and "Alert.Read.All" in page.text and customer["domain"] in page.text
    form = {**_consent_form(page.text), "tenant": customer["tenantId"], "decision": "accept"}
    answer = control.post("/common/oauth2/consent-decision", data=form)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}" == "https://portal.azure.com"
    assert query["admin_consent"] == ["True"] and query["code"] and query["session_state"]
    claims = verify_token(app.token(tenant=customer["domain"]), MDE)
    assert claims["tid"] == customer["tenantId"] and claims["roles"] == ["Alert.Read.All"]
    assert app.token_response(tenant=bystander["tenantId"]).json()["error_codes"] == [700016]


def test_v2_adminconsent_decline_then_accept(make_app: Any, make_tenant: Any, control: httpx.Client) -> None:
    app = make_app(permissions=["Machine.Read.All"], multi_tenant=True)
    customer = make_tenant("Customer")
    params = {"client_id": app["appId"], "scope": f"{MDE}/.default", "redirect_uri": "https://portal.azure.com",
              "state": "xyz"}  # fmt: skip
    page = control.get(f"/{customer['tenantId']}/v2.0/adminconsent", params=params)
    assert page.status_code == 200
    hidden = _consent_form(page.text)
    declined = control.post(
        "/common/oauth2/consent-decision", data={**hidden, "tenant": customer["tenantId"]}
    )
    query = parse_qs(urlsplit(declined.headers["location"]).query)
    assert (
        query["error"] == ["consent_required"]
        and query["admin_consent"] == ["True"]
        and query["state"] == ["xyz"]
    )
    assert query["error_description"][0].startswith("AADSTS65004")
    assert app.token_response(tenant=customer["tenantId"]).status_code == 400
    accepted = control.post(
        "/common/oauth2/consent-decision",
        data={**hidden, "tenant": customer["tenantId"], "decision": "accept"},
    )
    query = parse_qs(urlsplit(accepted.headers["location"]).query)
    assert query["tenant"] == [customer["tenantId"]] and query["scope"] == [f"{MDE}/.default"]
    assert app.token_response(tenant=customer["tenantId"]).status_code == 200


def test_consent_refusals(make_app: Any, make_tenant: Any, control: httpx.Client) -> None:
    single = make_app(multi_tenant=False)
    customer = make_tenant("Customer")
    bad_redirect = control.get(
        f"/{customer['tenantId']}/v2.0/adminconsent",
        params={
            "client_id": single["appId"],
            "scope": f"{MDE}/.default",
            "redirect_uri": "https://evil.example",
        },
    )
    assert bad_redirect.status_code == 400 and "AADSTS50011" in bad_redirect.text
    form = {"client_id": single["appId"], "flow": "v1", "tenant": customer["tenantId"], "decision": "accept"}
    refused = control.post("/common/oauth2/consent-decision", data=form)
    assert refused.status_code == 400 and "AADSTS700016" in refused.text
    assert single.token_response(tenant=customer["tenantId"]).status_code == 400


def test_permissions_added_later_need_consent_again(
    make_app: Any, control: httpx.Client, verify_token: Any
) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    base = f"/_emulator/tenants/{app['domain']}/applications/{app['appId']}"
    changed = control.post(f"{base}/permissions", json={"add": ["Machine.Isolate"], "remove": []})
    assert changed.json()["permissions"] == ["Alert.Read.All", "Machine.Isolate"]
    assert changed.json()["grantedRoles"] == ["Alert.Read.All"]
    assert verify_token(app.token(), MDE)["roles"] == ["Alert.Read.All"]
    consent = control.post(f"/_emulator/tenants/{app['tenantId']}/consent", json={"appId": app["appId"]})
    assert consent.json()["roles"] == ["Alert.Read.All", "Machine.Isolate"]
    assert verify_token(app.token(), MDE)["roles"] == ["Alert.Read.All", "Machine.Isolate"]


def test_service_principal_lifecycle(emu: EmulatorServer, make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    d = emu.state.directory
    assert d.tenant_exists(app["tenantId"]) and d.service_principal_active(app["tenantId"], app["appId"])
    assert d.display_name(app["tenantId"], app["appId"]) == "mdekit test app"
    revoked = control.delete(f"/_emulator/tenants/{app['tenantId']}/consent/{app['appId']}")
    assert revoked.status_code == 204 and not d.service_principal_active(app["tenantId"], app["appId"])
    assert app.token_response().json()["error_codes"] == [700016]
    control.post(
        f"/_emulator/tenants/{app['tenantId']}/consent", json={"appId": app["appId"]}
    ).raise_for_status()
    assert (
        control.delete(f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}").status_code == 204
    )
    assert not d.service_principal_active(app["tenantId"], app["appId"])


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/_emulator/tenants", {}, 400, "displayName is required"),
        ("/_emulator/tenants/nowhere.onmicrosoft.com/applications", {"displayName": "x"}, 404, "not found"),
        ("/_emulator/tenants/{tid}/applications", {"displayName": "x", "permissions": ["Alert.Read"]}, 400,
         "unknown application permission 'Alert.Read'"),
        ("/_emulator/tenants/{tid}/applications", {"displayName": "x", "permissions": ["alert.read.all"]},
         400, "did you mean 'Alert.Read.All'"),
        ("/_emulator/tenants/{tid}/applications", {"displayName": "x", "certificatePem": "nope"}, 400, "PEM"),
        ("/_emulator/tenants/{tid}/consent", {}, 400, "appId is required"),
    ],
)  # fmt: skip
def test_control_plane_bad_input(
    make_tenant: Any, control: httpx.Client, path: str, body: dict[str, Any], status: int, needle: str
) -> None:
    tenant = make_tenant("Contoso")
    response = control.post(path.format(tid=tenant["tenantId"]), json=body)
    assert response.status_code == status and needle in response.json()["detail"]


def test_secret_never_stored_logged_or_returned_again(
    emu: EmulatorServer, make_app: Any, control: httpx.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    app = make_app()
    secret = app["secret"]
    assert app.token_response().status_code == 200
    app.token_response(version="v1")
    wrong = control.post(f"/{app['tenantId']}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": app["appId"], "client_secret": secret + "x",
        "scope": f"{MDE}/.default"})  # fmt: skip
    assert secret not in wrong.text
    listed = control.get(f"/_emulator/tenants/{app['tenantId']}/applications")
    assert secret not in listed.text and listed.json()["value"][0]["secrets"][0]["hint"] == secret[:3]
    assert secret not in control.get("/_emulator/requests").text
    emu.state.db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(
        p.read_bytes() for p in Path(emu.state.db.path).parent.glob(Path(emu.state.db.path).name + "*")
    )
    assert raw and secret.encode() not in raw and secret[3:].encode() not in raw
    out, err = capfd.readouterr()
    assert secret not in out and secret not in err
