"""The mdekit.testing plugin, used the way our users use it (dogfooding)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import urllib.request
from collections.abc import Callable

import jwt
import msal
import pytest
from azure.identity import DefaultAzureCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential

from mdekit.testing import Clock, Emulator, Journal, MdeApp, emulate

pytestmark = pytest.mark.socket
SCOPE = "https://api.securitycenter.microsoft.com/.default"


def _roles(token: str) -> list[str]:
    return sorted(jwt.decode(token, options={"verify_signature": False}).get("roles", []))


@pytest.mark.mde(permissions=["Alert.Read.All", "Machine.Isolate"])
def test_marker_chooses_the_app_permissions(mde_app: MdeApp, mde_journal: Journal) -> None:
    assert _roles(mde_app.token()) == ["Alert.Read.All", "Machine.Isolate"]


def test_factory_makes_independent_tenants(mde_make_app: Callable[..., MdeApp]) -> None:
    reader = mde_make_app(["Machine.Read.All"])
    other = mde_make_app([])
    assert reader.tenant_id != other.tenant_id
    assert _roles(reader.token()) == ["Machine.Read.All"] and _roles(other.token()) == []


def test_mde_env_makes_unmodified_azure_identity_and_msal_work(mde_env: MdeApp, mde_journal: Journal) -> None:
    token = DefaultAzureCredential().get_token(SCOPE).token  # default arguments, env only
    assert jwt.decode(token, options={"verify_signature": False})["appid"] == mde_env.client_id
    app = msal.ConfidentialClientApplication(
        os.environ["AZURE_CLIENT_ID"], client_credential=os.environ["AZURE_CLIENT_SECRET"],
        authority=f"https://login.microsoftonline.com/{os.environ['AZURE_TENANT_ID']}",
    )  # fmt: skip
    assert "access_token" in app.acquire_token_for_client(scopes=[SCOPE])

    async def aio() -> str:
        async with AioClientSecretCredential(mde_env.tenant_id, mde_env.client_id, mde_env.secret) as cred:
            return (await cred.get_token(SCOPE)).token

    assert _roles(asyncio.run(aio())) == sorted(mde_env.permissions)
    posts = mde_env.emulator.journal.entries(method="POST", path=f"/{mde_env.tenant_id}/oauth2/v2.0/token")
    assert len(posts) == 3 and {e["host"] for e in posts} == {"login.microsoftonline.com"}


def test_transparent_resolver_refuses_other_microsoft_names(mde_transparent: Emulator) -> None:
    with pytest.raises(socket.gaierror, match="not emulated"):
        socket.getaddrinfo("westus.login.microsoftonline.com", 443)
    assert socket.getaddrinfo("localhost", 80)  # everything else resolves as usual


def test_clock_moves_and_is_back_to_real_time_next_test(mde_clock: Clock) -> None:
    before = mde_clock.now()
    after = mde_clock.advance(dt.timedelta(hours=2))
    assert dt.timedelta(hours=2) <= after - before < dt.timedelta(hours=2, minutes=1)


def test_fresh_state_each_test(mde_fresh: Emulator) -> None:
    now = dt.datetime.now(dt.UTC)
    assert abs((mde_fresh.clock.now() - now).total_seconds()) < 60  # the previous test's 2 h are gone
    assert mde_fresh.journal.entries() == []
    assert mde_fresh.call("GET", "/_emulator/tenants")["value"] == []


def test_journal_filters_by_glob(mde_app: MdeApp, mde_journal: Journal) -> None:
    mde_app.token()
    mde_app.token()
    assert mde_journal.count(method="POST", path="/*/oauth2/v2.0/token") == 2
    assert mde_journal.count(method="GET") == 0
    mde_journal.clear()
    assert mde_journal.entries() == []


def test_emulate_without_pytest_fixtures_restores_everything() -> None:
    saved_env, saved_resolver = dict(os.environ), socket.getaddrinfo
    with emulate(permissions=["Alert.Read.All"]) as env:
        assert os.environ["AZURE_CLIENT_ID"] == env.client_id and "CURL_CA_BUNDLE" not in os.environ
        body = "grant_type=client_credentials&resource=https://api.securitycenter.microsoft.com"
        body += f"&client_id={env.client_id}&client_secret={env.secret}"
        url = f"https://login.microsoftonline.com/{env.tenant_id}/oauth2/token"  # hard-coded host, urllib
        with urllib.request.urlopen(url, data=body.encode()) as resp:
            token = json.loads(resp.read())["access_token"]
        assert _roles(token) == ["Alert.Read.All"]
        assert env.journal.count(host="login.microsoftonline.com") == 1
    assert dict(os.environ) == saved_env and socket.getaddrinfo is saved_resolver


def test_control_plane_errors_are_one_clear_line(mde_fresh: Emulator) -> None:
    with pytest.raises(Exception, match=r"POST /_emulator/tenants/nope/applications -> 4\d\d"):
        mde_fresh.call("POST", "/_emulator/tenants/nope/applications", {"displayName": "x"})
