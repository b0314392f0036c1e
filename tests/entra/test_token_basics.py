"""Token endpoints over real HTTPS: response shapes, claims, JWKS verification, the fixture."""

from __future__ import annotations

import time
from typing import Any

import httpx

MDE = "https://api.securitycenter.microsoft.com"
ALT = "https://securitycenter.onmicrosoft.com/windowsatpservice"
#: The claims of a real v1 app-only MDE token, in the order issued (service-facts §2.3).
REAL_MDE_CLAIMS = [
    "aud", "iss", "iat", "nbf", "exp", "aio", "app_displayname", "appid", "appidacr", "idp", "oid",
    "rh", "roles", "sub", "tenant_region_scope", "tid", "uti", "ver",
]  # fmt: skip


def test_v2_secret_token_shape_and_claims(make_app: Any, verify_token: Any) -> None:
    app = make_app(permissions=["Alert.Read.All", "Machine.Isolate"], display_name="MDE-HelloWorld")
    response = app.token_response(MDE)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and body["ext_expires_in"] == 3599
    claims = verify_token(body["access_token"], MDE)
    assert claims["iss"] == f"https://sts.windows.net/{app['tenantId']}/"
    assert claims["tid"] == app["tenantId"] and claims["appid"] == app["appId"]
    assert list(claims) == REAL_MDE_CLAIMS  # exactly the real token's claims: no idtyp
    assert claims["appidacr"] == "1" and claims["ver"] == "1.0"
    assert claims["app_displayname"] == "MDE-HelloWorld"
    assert claims["oid"] == claims["sub"] and claims["oid"] != app["objectId"]
    assert sorted(claims["roles"]) == ["Alert.Read.All", "Machine.Isolate"]
    assert claims["exp"] - claims["iat"] == 3900 and claims["nbf"] == claims["iat"]
    assert abs(claims["iat"] + 300 - time.time()) < 30
    assert claims["rh"].startswith("0.") and claims["uti"]


def test_v1_token_numbers_are_strings(make_app: Any, verify_token: Any) -> None:
    app = make_app()
    response = app.token_response(MDE, version="v1")
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {
        "token_type",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "resource",
        "access_token",
    }
    assert body["expires_in"] == "3599" and body["resource"] == MDE
    claims = verify_token(body["access_token"], MDE)
    assert body["expires_on"] == str(claims["exp"]) and body["not_before"] == str(claims["nbf"])


def test_audience_echoes_requested_identifier_uri(make_app: Any, verify_token: Any) -> None:
    app = make_app()
    claims = verify_token(app.token(ALT), ALT)
    assert claims["aud"] == ALT


def test_roles_absent_without_consent(make_app: Any, verify_token: Any) -> None:
    app = make_app(permissions=["Machine.Read.All"], grant_consent=False)
    claims = verify_token(app.token(MDE), MDE)
    assert "roles" not in claims


def test_token_urls_accept_domain_and_basic_auth(make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    form = {"grant_type": "client_credentials", "scope": f"{MDE}/.default"}
    response = control.post(
        f"/{app['domain'].upper()}/oauth2/v2.0/token", data=form, auth=(app["appId"], app["secret"])
    )
    assert response.status_code == 200, response.text


def test_journal_names_tenant_and_app(make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    app.token()
    entries = control.get("/_emulator/requests").json()["value"]
    posts = [e for e in entries if e["path"].endswith("/oauth2/v2.0/token")]
    assert posts[-1]["tenantId"] == app["tenantId"] and posts[-1]["appId"] == app["appId"]
    assert posts[-1]["status"] == 200
