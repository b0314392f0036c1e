"""No token or secret in the repr of any client object (pytest ``-l``, Sentry frame locals, logs)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import httpx

from mdekit.auth.credentials import ClientSecretCredential
from mdekit.client.core import Call, Reply, make_call
from mdekit.client.defender import AsyncDefender, Defender
from mdekit.client.flow import GetToken, Send, call_flow
from mdekit.client.tokens import Token, TokenProvider
from mdekit.client.transport import SyncEngine
from mdekit.errors import TransportError

SECRET = "s3cr3t~value-Q~0123456789abcdefghijklmnopqrstu"
SIGNATURE = "sig=Zm9vYmFyYmF6cXV4c2lnbmF0dXJl"


def _jwt(**claims: Any) -> str:
    def seg(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{seg({'alg': 'RS256', 'typ': 'JWT'})}.{seg(claims)}.c2lnbmF0dXJlLWJ5dGVz"


TOKEN = _jwt(roles=["Machine.LiveResponse", "Alert.Read.All"], exp=int(time.time()) + 3600, aud="x")


class _Cred:
    def get_token(self, *scopes: str, **_: Any) -> Any:
        return type("AccessToken", (), {"token": TOKEN, "expires_on": int(time.time()) + 3600})()


def _clean(*objects: Any) -> None:
    for obj in objects:
        text = repr(obj) + str(obj)
        for secret in (TOKEN, SECRET, SIGNATURE, TOKEN.split(".")[2]):
            assert secret not in text, f"{type(obj).__name__} shows a secret: {text[:300]}"


def test_steps_calls_replies_and_tokens_hide_secrets() -> None:
    body = {"Commands": [{"type": "RunScript", "params": [{"key": "Args", "value": SECRET}]}], "Comment": "c"}
    call: Call[Any] = make_call("actions.live_response", body=body, id="m1")
    send = Send("POST", "WindowsDefenderATP", "/api/machines/m1/runliveresponse", {}, body, TOKEN)
    token = Token(TOKEN, time.time() + 3600, {"roles": ["Machine.LiveResponse"]})
    reply = Reply(
        200, {"content-type": "application/json"}, json.dumps({"value": f"https://x/p?{SIGNATURE}"}).encode()
    )
    _clean(call, send, token, reply, GetToken("WindowsDefenderATP", stale=token))
    assert "runliveresponse" in repr(send) and "POST" in repr(send)  # still useful to read


def test_the_flow_and_its_driver_hide_secrets() -> None:
    """Drive a flow up to the Send step and look at everything a traceback would show."""
    with Defender(_Cred(), base_url="https://127.0.0.1:1", rate_limit=False) as client:
        flow = call_flow(make_call("alerts.get", id="a1"), client.options)
        provider = client.token_provider()
        steps: list[Any] = [next(flow)]
        steps.append(flow.send(provider.get()))
        steps.append(flow.send(0.0))  # the Send step
        assert isinstance(steps[-1], Send) and steps[-1].token == TOKEN
        engine: SyncEngine = client._engine
        _, _, args = engine._request(steps[-1])
        _clean(*steps, provider, engine, client, args, client.options, client.routes)
        flow.close()


def test_credentials_and_errors_hide_secrets() -> None:
    cred = ClientSecretCredential("tenant", "client", SECRET, authority="https://127.0.0.1:1")
    _clean(cred, TransportError(f"POST /x failed: Authorization: Bearer {TOKEN}"))
    client = AsyncDefender(cred, base_url="https://127.0.0.1:1")
    _clean(client, client.tokens, TokenProvider(cred, "s"))
    asyncio.run(client.aclose())


def test_headers_sent_carry_the_token() -> None:
    """The masking is only in reprs: the request itself carries the bearer token."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"id": "a1"})

    with Defender(_Cred(), base_url="https://mde.test", transport=httpx.MockTransport(handler)) as client:
        assert client.alerts.get("a1").id == "a1"
    assert seen == [f"Bearer {TOKEN}"]
