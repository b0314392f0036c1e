"""The token endpoints' HTTP layer: the ASGI fast path answers exactly as the FastAPI routes do."""

from __future__ import annotations

import asyncio
import os
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdekit.emulator.app import create_app
from mdekit.emulator.entra.routes import router as entra_router
from mdekit.emulator.entra.token_http import parse_form
from mdekit.emulator.state import EmulatorState

MDE = "https://api.securitycenter.microsoft.com"


@pytest.fixture
def two_apps() -> Any:
    """The full app (token middleware) and a bare FastAPI app with only the Entra routes."""
    from fastapi import FastAPI

    state = EmulatorState.open(None)
    tenant = state.directory.create_tenant("Contoso")
    app = state.directory.create_application(tenant.id, "t", permissions=["Alert.Read.All"])
    state.directory.consent(tenant.id, app.app_id)
    secret = state.directory.add_secret(tenant.id, app.app_id)["value"]
    bare = FastAPI()
    bare.state.emu = state
    bare.include_router(entra_router)
    yield state, create_app(state), bare, tenant.id, app.app_id, secret
    state.close()


@pytest.mark.parametrize(
    ("path", "form", "status", "code"),
    [
        ("/{tid}/oauth2/v2.0/token", {"scope": f"{MDE}/.default"}, 200, None),
        ("/{tid}/oauth2/token", {"resource": MDE}, 200, None),
        ("/{tid}/oauth2/v2.0/token", {"scope": f"{MDE}/.default", "client_secret": "nope"}, 401, 7000215),
        ("/{tid}/oauth2/v2.0/token", {"resource": MDE}, 400, 901002),
        ("/nowhere.example/oauth2/v2.0/token", {"scope": f"{MDE}/.default"}, 400, 90002),
        ("/common/oauth2/token", {"resource": MDE}, 400, 9001023),
    ],
)
async def test_middleware_and_routes_answer_alike(
    two_apps: Any, path: str, form: dict[str, str], status: int, code: int | None
) -> None:
    state, full, bare, tid, app_id, secret = two_apps
    data = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret, **form}
    answers = []
    for asgi in (full, bare):
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as client:
            answers.append(await client.post(path.format(tid=tid), data=data))
    for response in answers:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store, no-cache"
        body = response.json()
        if code is None:
            assert jwt.decode(body["access_token"], options={"verify_signature": False})["appid"] == app_id
        else:
            assert body["error_codes"] == [code]
    assert sorted(answers[0].json()) == sorted(answers[1].json())
    assert [e["path"] for e in state.journal.entries()][-1:] == [path.format(tid=tid)]


def test_minted_header_is_entras() -> None:
    state = EmulatorState.open(None)
    try:
        token = state.signer.mint({"aud": MDE, "exp": 2_000_000_000})
        header = jwt.get_unverified_header(token)
        assert list(header) == ["typ", "alg", "x5t", "kid"] and header["kid"] == state.signer.kid
        assert state.signer.verify(token, now=1_900_000_000)["aud"] == MDE
    finally:
        state.close()


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab=&%+2F0c;é \x00", max_size=40),
        st.dictionaries(st.text(max_size=10), st.text(max_size=10)).map(urlencode),
    )
)
def test_form_parsing_matches_parse_qsl(text: str) -> None:
    assert parse_form(text.encode()) == dict(parse_qsl(text, keep_blank_values=True))


async def test_token_shortcut_keeps_journal_faults_and_body_limit(two_apps: Any) -> None:
    """Token POSTs skip FastAPI's outer layers (issue 19), not the emulator's own middlewares."""
    state, full, _bare, tid, app_id, secret = two_apps
    path = f"/{tid}/oauth2/v2.0/token"
    data = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
            "scope": f"{MDE}/.default"}  # fmt: skip
    transport = httpx.ASGITransport(app=full)
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as client:
        plan = state.faults.add({"path": "/*/oauth2/v2.0/token", "status": 503, "retryAfter": 7, "count": 1})
        faulted = await client.post(path, data=data)
        assert faulted.status_code == 503 and faulted.headers["retry-after"] == "7"
        assert faulted.json()["error"] == "temporarily_unavailable"  # Entra's envelope, not the API's
        assert plan.fired == 1
        assert (await client.post(path, data=data)).status_code == 200  # the plan fired once only
        too_big = await client.post(path, data={**data, "pad": "x" * (1024 * 1024 + 1)})
        assert too_big.status_code == 413
    entries = state.journal.entries()[-3:]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", path, 503),
        ("POST", path, 200),
        ("POST", path, 413),
    ]
    assert entries[1]["tenantId"] == tid and entries[1]["appId"] == app_id
    assert entries[1]["host"] == "127.0.0.1:8443" and entries[1]["time"].endswith("Z")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_signing_threads_work_in_a_forked_child() -> None:
    """A child forked after tokens were signed has none of the parent's signing threads."""
    from mdekit.emulator.entra.token_http import _signing

    async def double() -> int:
        return await asyncio.wait_for(_signing.run(lambda x: x * 2, 21), 10)

    assert asyncio.run(double()) == 42  # the parent's threads are running now
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only if its own signing threads answered
        try:
            os._exit(0 if asyncio.run(double()) == 42 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
