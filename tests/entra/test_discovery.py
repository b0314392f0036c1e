"""Discovery documents, JWKS and instance discovery: URLs follow the Host the client used."""

from __future__ import annotations

import base64
import hashlib
import ssl
from typing import Any

import httpx
import jwt

from mdekit.emulator.server import EmulatorServer


def test_v2_and_v1_documents_follow_host(emu: EmulatorServer, make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    tid, base = app["tenantId"], emu.url
    v2 = control.get(f"/{app['domain']}/v2.0/.well-known/openid-configuration").json()
    assert v2["token_endpoint"] == f"{base}/{tid}/oauth2/v2.0/token"
    assert v2["authorization_endpoint"] == f"{base}/{tid}/oauth2/v2.0/authorize"
    assert v2["jwks_uri"] == f"{base}/{tid}/discovery/v2.0/keys" and v2["issuer"].endswith(f"/{tid}/v2.0")
    assert "private_key_jwt" in v2["token_endpoint_auth_methods_supported"]
    v1 = control.get(f"/{tid}/.well-known/openid-configuration").json()
    assert (
        v1["token_endpoint"] == f"{base}/{tid}/oauth2/token"
        and v1["issuer"] == f"https://sts.windows.net/{tid}/"
    )
    with httpx.Client(
        base_url=f"https://localhost:{emu.port}", verify=ssl.create_default_context(cafile=str(emu.ca_cert))
    ) as local:
        doc = local.get(f"/{tid}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"https://localhost:{emu.port}/{tid}/oauth2/v2.0/token"
    common = control.get("/organizations/v2.0/.well-known/openid-configuration").json()
    assert common["issuer"].endswith("/{tenantid}/v2.0") and common["tenant_region_scope"] is None
    bad = control.get("/not_a_tenant/v2.0/.well-known/openid-configuration")
    assert bad.status_code == 400 and bad.json()["error_codes"] == [900023]


def test_jwks_endpoints_and_instance_discovery(
    emu: EmulatorServer, make_app: Any, control: httpx.Client
) -> None:
    app = make_app()
    v1 = control.get("/common/discovery/keys").json()["keys"][0]
    der = base64.b64decode(v1["x5c"][0])
    kid = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")
    assert v1["kid"] == v1["x5t"] == kid and "issuer" not in v1
    assert control.get(f"/{app['tenantId']}/discovery/keys").json()["keys"][0]["kid"] == kid
    v2 = control.get(f"/{app['tenantId']}/discovery/v2.0/keys").json()["keys"][0]
    assert v2["issuer"].endswith(f"/{app['tenantId']}/v2.0")
    assert jwt.get_unverified_header(app.token())["kid"] == kid
    inst = control.get("/common/discovery/instance", params={"api-version": "1.1"}).json()
    assert inst["api-version"] == "1.1" and inst["metadata"][0]["aliases"] == ["127.0.0.1"]
    assert inst["tenant_discovery_endpoint"].startswith(emu.url)


def test_other_resources_get_their_own_roles(make_app: Any, verify_token: Any) -> None:
    mtp_role = {"resource": "Microsoft Threat Protection", "role": "AdvancedHunting.Read.All"}
    app = make_app(permissions=["Alert.Read.All", "ThreatHunting.Read.All", mtp_role])
    graph = verify_token(app.token("https://graph.microsoft.com"), "https://graph.microsoft.com")
    assert graph["roles"] == ["ThreatHunting.Read.All"]
    assert graph["idtyp"] == "app"  # Graph tokens carry the optional claim; MDE ones do not
    mtp = "https://api.security.microsoft.com"
    assert verify_token(app.token(mtp), mtp)["roles"] == ["AdvancedHunting.Read.All"]
    mde = "https://api.securitycenter.microsoft.com"
    mde_claims = verify_token(app.token(mde), mde)
    assert mde_claims["roles"] == ["Alert.Read.All"] and "idtyp" not in mde_claims
