"""Unmodified Microsoft libraries complete the device code flow against the emulator over HTTPS.

A thread plays the person at the browser: it approves the code through the control plane while the
library polls. The libraries sleep for real between polls, so the interval is set to 1 s here.
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import httpx
import jwt
import msal
import pytest
import requests
from azure.identity import DeviceCodeCredential
from signin_helpers import AZURE_CLI, GRAPH_CLI, add_user

from mdekit.emulator.server import EmulatorServer

GRAPH_SCOPES = [
    "https://graph.microsoft.com/Application.ReadWrite.All",
    "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
]


@pytest.fixture(autouse=True)
def fast_interval(control: httpx.Client) -> None:
    assert control.post("/_emulator/devicecode/settings", json={"interval": 1}).status_code == 200


def _approve_later(
    emu: EmulatorServer, user_code: str, upn: str, outcome: list[Any], decline: bool = False
) -> None:
    """The person: after the library's first poll, approve (or decline) through the control plane."""

    def run() -> None:
        with httpx.Client(base_url=emu.url, verify=ssl.create_default_context(cafile=str(emu.ca_cert))) as c:
            time.sleep(0.3)
            if decline:
                outcome.append(c.post("/_emulator/devicecode/decline", json={"userCode": user_code}))
            else:
                body = {"userCode": user_code, "userPrincipalName": upn}
                outcome.append(c.post("/_emulator/devicecode/approve", json=body))

    threading.Thread(target=run, daemon=True).start()


def _session(emu: EmulatorServer) -> requests.Session:
    # Own session: REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE on CI would override verify= (psf/requests#3829).
    session = requests.Session()
    session.verify = str(emu.ca_cert)
    session.trust_env = False
    return session


def _token_posts(control: httpx.Client) -> list[int]:
    entries = control.get("/_emulator/requests").json()["value"]
    return [e["status"] for e in entries if e["path"].endswith("/oauth2/v2.0/token")]


def test_msal_public_client_device_flow(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    app = msal.PublicClientApplication(
        GRAPH_CLI,
        authority=f"{emu.url}/{tenant['tenantId']}",
        instance_discovery=False,
        azure_region=False,
        http_client=_session(emu),
    )
    flow = app.initiate_device_flow(scopes=GRAPH_SCOPES)
    assert flow["user_code"] in flow["message"] and flow["interval"] == 1
    approved: list[Any] = []
    _approve_later(emu, flow["user_code"], f"admin@{tenant['domain']}", approved)
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    assert approved[0].status_code == 200
    assert _token_posts(control)[:1] == [400] and _token_posts(control)[-1] == 200  # pending, then the token
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert set(claims["scp"].split()) == {"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"}
    assert result["id_token_claims"]["preferred_username"] == f"admin@{tenant['domain']}"
    (account,) = app.get_accounts()
    assert account["username"] == f"admin@{tenant['domain']}"
    # the token works at Graph: list the built-in WindowsDefenderATP service principal
    r = httpx.get(
        f"{emu.url}/v1.0/servicePrincipals",
        params={"$filter": "appId eq 'fc780465-2017-40d4-a0c5-307022471b92'"},
        headers={"Authorization": f"Bearer {result['access_token']}"},
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
    )
    assert r.status_code == 200 and r.json()["value"][0]["displayName"] == "WindowsDefenderATP"
    # the refresh token MSAL keeps serves a silent call for another Graph scope set
    silent = app.acquire_token_silent(["https://graph.microsoft.com/User.Read"], account=account)
    assert silent and "access_token" in silent, silent


def test_msal_reports_a_declined_sign_in(emu: EmulatorServer, tenant: dict[str, Any]) -> None:
    app = msal.PublicClientApplication(
        AZURE_CLI, authority=f"{emu.url}/{tenant['tenantId']}", instance_discovery=False,
        azure_region=False, http_client=_session(emu),
    )  # fmt: skip
    flow = app.initiate_device_flow(scopes=["https://graph.microsoft.com/User.Read"])
    _approve_later(emu, flow["user_code"], "", [], decline=True)
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_declined"


def test_msal_reports_consent_blocked_by_policy(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    bob = add_user(control, tenant, "bob")
    app = msal.PublicClientApplication(
        GRAPH_CLI, authority=f"{emu.url}/{tenant['tenantId']}", instance_discovery=False,
        azure_region=False, http_client=_session(emu),
    )  # fmt: skip
    flow = app.initiate_device_flow(scopes=GRAPH_SCOPES)
    _approve_later(emu, flow["user_code"], bob, [])
    result = app.acquire_token_by_device_flow(flow)
    assert (result["error"], result["error_codes"], result["suberror"]) == (
        "invalid_grant",
        [65001],
        "consent_required",
    )


def test_azure_identity_device_code_credential(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    prompts: list[tuple[str, str]] = []
    approved: list[Any] = []

    def prompt(uri: str, user_code: str, expires_on: Any) -> None:
        prompts.append((uri, user_code))
        _approve_later(emu, user_code, f"admin@{tenant['domain']}", approved)

    credential = DeviceCodeCredential(
        tenant_id=tenant["tenantId"],
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=str(emu.ca_cert),
        prompt_callback=prompt,
        retry_total=0,
    )  # the default client is Azure CLI's public client
    token = credential.get_token("https://graph.microsoft.com/Application.ReadWrite.All")
    assert prompts and prompts[0][0].endswith("/devicelogin") and approved[0].status_code == 200
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert (claims["appid"], claims["scp"], claims["upn"]) == (
        AZURE_CLI,
        "Application.ReadWrite.All",
        f"admin@{tenant['domain']}",
    )
    assert token.expires_on > time.time() + 3000
    record = credential._auth_record  # built from the id token and client_info, as after any sign-in
    assert record is not None and record.username == f"admin@{tenant['domain']}"
