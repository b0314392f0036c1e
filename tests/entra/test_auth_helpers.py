"""mdekit.auth: the token client, inspect, consent: pure pieces, then against the emulator over HTTPS."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mdekit.auth import consent, credentials, inspect
from mdekit.emulator.server import EmulatorServer
from mdekit.errors import AuthenticationError, ConfigurationError, TokenValidationError

MDE = "https://api.securitycenter.microsoft.com"
APP = "11111111-2222-3333-4444-555555555555"


# ---- the token client ----------------------------------------------------------------------------


def test_build_request_v1_and_v2_and_repr_hides_secret() -> None:
    v1 = credentials.build_token_request("contoso.onmicrosoft.com", APP, secret="s3cr3t-value", resource=MDE)
    assert v1.url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token"
    assert v1.form["resource"] == MDE and "scope" not in v1.form and v1.version == 1
    v2 = credentials.build_token_request("t", APP, secret="s3cr3t-value", scope=f"{MDE}/.default",
                                     authority="https://login.microsoftonline.us/")  # fmt: skip
    assert (
        v2.url == "https://login.microsoftonline.us/t/oauth2/v2.0/token"
        and v2.form["scope"] == f"{MDE}/.default"
    )
    assert "s3cr3t" not in repr(v1) + repr(v2)
    with pytest.raises(ConfigurationError):
        credentials.build_token_request("t", APP, secret="x", resource=MDE, scope="y")
    with pytest.raises(ConfigurationError):
        credentials.build_token_request("t", APP, resource=MDE)


def test_parse_v1_strings_and_errors_with_hint() -> None:
    body = {"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
            "expires_on": "1700003599", "not_before": "1700000000", "resource": MDE,
            "access_token": "eyJ.a.b"}  # fmt: skip
    tok = credentials.parse_token_response(200, json.dumps(body))
    assert (tok.expires_in, tok.expires_on, tok.resource) == (3599, 1700003599, MDE)
    assert "eyJ" not in repr(tok)
    err = {"error": "invalid_client", "error_codes": [7000215],
           "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}  # fmt: skip
    with pytest.raises(AuthenticationError) as info:
        credentials.parse_token_response(401, json.dumps(err))
    assert (
        info.value.codes == (7000215,) and info.value.status == 401 and info.value.error == "invalid_client"
    )
    assert "VALUE" in (info.value.hint or "") and "not its ID" in (info.value.hint or "")
    assert "Trace ID" not in str(info.value)
    with pytest.raises(AuthenticationError, match="without a JSON body"):
        credentials.parse_token_response(502, "<html>bad gateway</html>")


def test_request_token_against_emulator(emu: EmulatorServer, make_app: Any, client_cert: Any) -> None:
    app = make_app(permissions=["Machine.Read.All"], certificate_pem=client_cert.cert_pem)
    common = {"authority": emu.url, "verify": str(emu.ca_cert)}
    v1 = credentials.request_token(app["domain"], app["appId"], app["secret"], resource=MDE, **common)
    assert v1.resource == MDE and v1.expires_in == 3599
    v2 = credentials.request_token(app["tenantId"], app["appId"], certificate=client_cert.combined,
                               scope=f"{MDE}/.default", **common)  # fmt: skip
    assert jwt.decode(v2.access_token, options={"verify_signature": False})["appidacr"] == "2"
    with pytest.raises(AuthenticationError) as info:
        credentials.request_token(
            app["tenantId"], app["appId"], app["secretKeyId"], scope=f"{MDE}/.default", **common
        )
    assert info.value.codes == (7000215,) and info.value.hint and app["secretKeyId"] not in str(info.value)


def test_request_token_in_process_transport(emu: EmulatorServer, make_app: Any) -> None:
    from mdekit.client.transport import AsgiTransport
    from mdekit.emulator.app import create_app

    app = make_app()
    transport = AsgiTransport(create_app(emu.state))
    try:
        for _ in range(2):  # the caller's transport stays usable
            tok = credentials.request_token(app["tenantId"], app["appId"], app["secret"],
                                            scope=f"{MDE}/.default", transport=transport)  # fmt: skip
            assert tok.access_token.count(".") == 2
    finally:
        transport.close()


# ---- inspect ----------------------------------------------------------------------------------


def test_describe_shows_times_roles_summary(make_app: Any) -> None:
    app = make_app(permissions=["Alert.Read.All", "Machine.Scan"])
    report = inspect.describe(app.token())
    assert report["header"]["alg"] == "RS256" and report["header"]["kid"] == report["header"]["x5t"]
    assert report["roles"] == ["Alert.Read.All", "Machine.Scan"] and not report["expired"]
    assert report["times"]["exp"]["relative"].startswith("in 1 h") or report["times"]["exp"][
        "relative"
    ].startswith("in 59 min")
    assert (
        report["times"]["iat"]["utc"].endswith("UTC") and report["summary"]["credential"] == "client secret"
    )
    with pytest.raises(TokenValidationError) as info:
        inspect.decode("not-a-token")
    assert info.value.reason == "malformed"


def test_verify_ok_and_each_failure_reason(emu: EmulatorServer, make_app: Any) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    token = app.token()
    opts = {"authority": emu.url, "verify": str(emu.ca_cert)}
    claims = inspect.verify(token, audience=MDE, required_roles=["Alert.Read.All"], **opts)
    assert claims["tid"] == app["tenantId"]

    def reason(tok: str, **kw: Any) -> str:
        with pytest.raises(TokenValidationError) as info:
            inspect.verify(tok, **{**opts, **kw})
        return info.value.reason

    assert reason(token, audience="https://graph.microsoft.com") == "audience"
    assert reason(token, issuer="https://sts.windows.net/other/") == "issuer"
    assert reason(token, required_roles=["Machine.Isolate"]) == "roles"
    assert reason(token, now=time.time() + 7200) == "expired"
    head, _body, sig = token.split(".")
    changed = {**jwt.decode(token, options={"verify_signature": False}), "roles": ["Machine.Offboard"]}
    tampered = jwt.utils.base64url_encode(json.dumps(changed).encode()).decode()
    assert reason(f"{head}.{tampered}.{sig}") == "signature"
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"aud": MDE, "exp": time.time() + 60}, foreign_key, algorithm="RS256", headers={"kid": "nope"}
    )
    assert reason(forged) == "key_not_found"
    assert reason(token, jwks_url=f"{emu.url}/no/such/keys") == "jwks"
    assert reason(token, jwks_url=f"http://127.0.0.1:{emu.port}/common/discovery/keys") == "jwks"


# ---- consent links ----------------------------------------------------------------------------


def test_consent_links_for_every_cloud() -> None:
    v1 = consent.consent_url(APP)
    assert v1 == (f"https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id={APP}"
                  "&response_type=code&sso_reload=true")  # fmt: skip
    assert consent.consent_url(APP, cloud="gcc-high").startswith("https://login.microsoftonline.us/common/")
    v2 = consent.admin_consent_url(APP, "fabrikam.onmicrosoft.com", redirect_uri="https://portal.azure.com",
                                   cloud="dod")  # fmt: skip
    parts = urlsplit(v2)
    assert (
        parts.netloc == "login.microsoftonline.us"
        and parts.path == "/fabrikam.onmicrosoft.com/v2.0/adminconsent"
    )
    assert parse_qs(parts.query)["scope"] == ["https://api-gov.securitycenter.microsoft.us/.default"]
    with pytest.raises(ConfigurationError):
        consent.consent_url("not-a-guid")
    with pytest.raises(ConfigurationError):
        consent.admin_consent_url(APP, "common", redirect_uri="https://x")


def test_consent_link_opens_emulator_page(emu: EmulatorServer, make_app: Any, control: httpx.Client) -> None:
    app = make_app(multi_tenant=True)
    link = consent.consent_url(app["appId"], authority=emu.url)
    page = control.get(link)
    assert page.status_code == 200 and app["appId"] in page.text
    v2 = consent.admin_consent_url(app["appId"], "organizations", redirect_uri="https://portal.azure.com",
                                   authority=emu.url)  # fmt: skip
    assert control.get(v2).status_code == 200
