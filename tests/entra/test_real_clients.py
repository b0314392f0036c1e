"""The unmodified Microsoft libraries (msal, azure-identity sync + aio), curl and a PowerShell-shaped
v1 request get tokens from the emulator over real HTTPS; a second get_token is served from cache."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from typing import Any

import httpx
import msal
import pytest
import requests
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.identity.aio import CertificateCredential as AioCertificateCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential

from mdekit.emulator.server import EmulatorServer

SCOPE = "https://api.securitycenter.microsoft.com/.default"
MDE = "https://api.securitycenter.microsoft.com"


def token_posts(control: httpx.Client) -> list[dict[str, Any]]:
    """Journal entries of token requests."""
    entries = control.get("/_emulator/requests").json()["value"]
    return [e for e in entries if e["path"].endswith("/token")]


def msal_app(emu: EmulatorServer, app: Any, credential: Any) -> msal.ConfidentialClientApplication:
    # Own session: REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE on CI would override verify= (psf/requests#3829).
    session = requests.Session()
    session.verify = str(emu.ca_cert)
    session.trust_env = False
    return msal.ConfidentialClientApplication(
        app["appId"],
        client_credential=credential,
        authority=app.authority,
        instance_discovery=False,
        azure_region=False,
        http_client=session,
    )


def test_msal_secret_then_cache(
    emu: EmulatorServer, make_app: Any, control: httpx.Client, verify_token: Any
) -> None:
    app = make_app(permissions=["Machine.Read.All"])
    client = msal_app(emu, app, app["secret"])
    first = client.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in first, first
    second = client.acquire_token_for_client(scopes=[SCOPE])
    assert second["access_token"] == first["access_token"] and second["token_source"] == "cache"
    assert len(token_posts(control)) == 1
    assert verify_token(first["access_token"], MDE)["roles"] == ["Machine.Read.All"]


@pytest.mark.parametrize("shape", ["thumbprint-rs256", "public-cert-ps256-x5c"])
def test_msal_certificate(
    emu: EmulatorServer, make_app: Any, control: httpx.Client, verify_token: Any, client_cert: Any, shape: str
) -> None:
    app = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    if shape == "thumbprint-rs256":
        credential = {"private_key": client_cert.key_pem, "thumbprint": client_cert.sha1_hex}
    else:
        credential = {"private_key": client_cert.key_pem, "public_certificate": client_cert.cert_pem}
    client = msal_app(emu, app, credential)
    first = client.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in first, first
    assert client.acquire_token_for_client(scopes=[SCOPE])["token_source"] == "cache"
    assert len(token_posts(control)) == 1
    assert verify_token(first["access_token"], MDE)["appidacr"] == "2"


def test_azure_identity_sync_secret_and_certificate(
    emu: EmulatorServer, make_app: Any, control: httpx.Client, client_cert: Any, verify_token: Any
) -> None:
    app = make_app(certificate_pem=client_cert.cert_pem)
    common = {"authority": emu.url, "disable_instance_discovery": True, "connection_verify": str(emu.ca_cert)}
    for cred in (
        ClientSecretCredential(app["tenantId"], app["appId"], app["secret"], **common),
        CertificateCredential(app["tenantId"], app["appId"], str(client_cert.combined), **common),
    ):
        before = len(token_posts(control))
        first = cred.get_token(SCOPE)
        assert cred.get_token(SCOPE).token == first.token
        assert len(token_posts(control)) == before + 1
        assert verify_token(first.token, MDE)["tid"] == app["tenantId"]


async def test_azure_identity_aio_secret_and_certificate(
    emu: EmulatorServer, make_app: Any, control: httpx.Client, client_cert: Any, verify_token: Any
) -> None:
    app = make_app(certificate_pem=client_cert.cert_pem)
    common = {"authority": emu.url, "connection_verify": str(emu.ca_cert)}
    for cred in (
        AioClientSecretCredential(app["tenantId"], app["appId"], app["secret"], **common),
        AioCertificateCredential(app["tenantId"], app["appId"], str(client_cert.combined), **common),
    ):
        async with cred:
            before = len(token_posts(control))
            first = await cred.get_token(SCOPE)
            assert (await cred.get_token(SCOPE)).token == first.token
            assert len(token_posts(control)) == before + 1
            claims = verify_token(first.token, MDE)
            assert claims["appidacr"] in ("1", "2")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_seed_curl_command_v2(emu: EmulatorServer, make_app: Any, verify_token: Any) -> None:
    """The MDE docs' curl sample, host swapped: scope .../windowsatpservice/.default."""
    app = make_app()
    alt = "https://securitycenter.onmicrosoft.com/windowsatpservice"
    result = subprocess.run(
        [
            "curl", "-s", "--cacert", str(emu.ca_cert), "-X", "POST",
            f"{emu.url}/{app['tenantId']}/oauth2/v2.0/token",
            "-H", "Content-Type: application/x-www-form-urlencoded",
            "--data-urlencode", f"client_id={app['appId']}",
            "--data-urlencode", f"scope={alt}/.default",
            "--data-urlencode", f"client_secret={app['secret']}",
            "--data-urlencode", "grant_type=client_credentials",
        ],
        capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    import json

    body = json.loads(result.stdout)
    assert verify_token(body["access_token"], alt)["aud"] == alt


def test_powershell_shaped_v1_request(emu: EmulatorServer, make_app: Any, verify_token: Any) -> None:
    """Invoke-RestMethod -Method Post -Uri $oAuthUri -Body $authBody (resource=, form-encoded)."""
    app = make_app(permissions=["AdvancedQuery.Read.All"])
    body = {
        "resource": MDE,
        "client_id": app["appId"],
        "client_secret": app["secret"],
        "grant_type": "client_credentials",
    }
    with httpx.Client(
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers={"User-Agent": "Mozilla/5.0 (Windows NT; ...) PowerShell/7.4"},
    ) as c:
        response = c.post(f"{emu.url}/{app['tenantId']}/oauth2/token", data=body)
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert verify_token(token, MDE)["roles"] == ["AdvancedQuery.Read.All"]
