"""Token forgery matrix against the emulated MDE API, over the real HTTPS socket.

Every forged, stale, foreign or broken bearer token must be refused with the service's own answer:
401 ``Unauthorized`` (bad, expired or foreign token, deleted app, revoked consent) or 403
``Forbidden`` (a valid token for another resource), in the ``{"error": {"code", "message",
"target"}}`` envelope -- and never with data. A genuine token is the control: it must pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mdekit.emulator.server import EmulatorServer

GRAPH = "https://graph.microsoft.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _encode(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(sign(head.encode()))


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, body, sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731 - tiny local helper
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
        sig,
    )


class Forge:
    """Builds forged tokens from a genuine one and the emulator's signer."""

    def __init__(self, server: EmulatorServer, genuine: str) -> None:
        self.server = server
        self.genuine = genuine
        self.header, self.claims, self.signature = _parts(genuine)

    def resigned(self, **changes: Any) -> str:
        """The genuine claims with *changes*, signed with the emulator's real key (a valid signature)."""
        return self.server.state.signer.mint({**self.claims, **changes})

    def alg_none(self) -> str:
        header = {**self.header, "alg": "none"}
        return _encode(header, self.claims, lambda _: b"")  # "head.body." (empty signature)

    def hs256_with_public_key(self) -> str:
        pem = self.server.state.signer.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = {**self.header, "alg": "HS256"}
        return _encode(header, self.claims, lambda m: hmac.new(pem, m, hashlib.sha256).digest())

    def foreign_key(self, *, same_kid: bool) -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = self.header["kid"] if same_kid else _b64(uuid.uuid4().bytes)
        return jwt.encode(self.claims, key, algorithm="RS256", headers={"kid": kid, "x5t": kid})

    def tampered_payload(self) -> str:
        claims = {**self.claims, "roles": [*self.claims.get("roles", []), "Machine.Offboard"]}
        head = _b64(json.dumps(self.header).encode())
        return f"{head}.{_b64(json.dumps(claims).encode())}.{self.signature}"


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app(permissions=["Alert.Read.All", "Machine.Read.All"])


@pytest.fixture
def forge(emu: EmulatorServer, app: Any) -> Forge:
    return Forge(emu, app.token())


def _call(control: httpx.Client, token: str | None, path: str = "/api/alerts") -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return control.get(path, headers=headers)


def _assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body  # the error envelope, and nothing else (no "value")
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["target"] == response.headers.get("request-id")


def test_genuine_token_is_accepted(control: httpx.Client, forge: Forge) -> None:
    assert _call(control, forge.genuine).status_code == 200
    assert _call(control, forge.resigned()).status_code == 200  # re-signing alone changes nothing


FORGERIES: dict[str, Callable[[Forge], str]] = {
    "alg-none": Forge.alg_none,
    "alg-none-no-dot": lambda f: f.alg_none().rstrip("."),
    "hs256-signed-with-public-key": Forge.hs256_with_public_key,
    "unknown-kid": lambda f: f.foreign_key(same_kid=False),
    "foreign-key-same-kid": lambda f: f.foreign_key(same_kid=True),
    "tampered-payload": Forge.tampered_payload,
    "signature-stripped": lambda f: f.genuine.rsplit(".", 1)[0] + ".",
    "expired": lambda f: f.resigned(exp=f.claims["iat"] - 1),
    "expired-exactly-now": lambda f: f.resigned(exp=int(f.server.state.clock.time())),
    "no-exp": lambda f: f.server.state.signer.mint({k: v for k, v in f.claims.items() if k != "exp"}),
    "not-yet-valid": lambda f: f.resigned(nbf=int(f.server.state.clock.time()) + 3600),
    "wrong-iss-host": lambda f: f.resigned(iss=f"https://evil.example/{f.claims['tid']}/"),
    "iss-of-other-tenant": lambda f: f.resigned(iss=f"https://sts.windows.net/{uuid.uuid4()}/"),
    "unknown-tenant": lambda f: f.resigned(
        tid=(t := str(uuid.uuid4())), iss=f"https://sts.windows.net/{t}/", idp=f"https://sts.windows.net/{t}/"
    ),
    "tid-not-a-guid": lambda f: f.resigned(tid="contoso.com", iss="https://sts.windows.net/contoso.com/"),
    "unknown-appid": lambda f: f.resigned(appid=str(uuid.uuid4())),
    "no-appid": lambda f: f.server.state.signer.mint(
        {k: v for k, v in f.claims.items() if k not in ("appid", "azp")}
    ),
    "truncated": lambda f: f.genuine[: len(f.genuine) // 2],
    "truncated-signature": lambda f: f.genuine[:-10],
    "two-segments": lambda f: ".".join(f.genuine.split(".")[:2]),
    "four-segments": lambda f: f.genuine + ".AAAA",
    "garbage": lambda f: "not-a-token",
    "garbage-base64": lambda f: "eyJ.eyJ.eyJ",
    "json-not-object": lambda f: _b64(b"[]") + "." + _b64(b"[]") + ".",
    "long-8k": lambda f: "A" * 8_000,
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_token_is_401(control: httpx.Client, forge: Forge, name: str) -> None:
    _assert_refused(_call(control, FORGERIES[name](forge)), 401, "Unauthorized")


def test_huge_token_is_refused(control: httpx.Client, forge: Forge) -> None:
    """60 KB of header: refused either by the HTTP layer (400, as HTTP.sys does) or as a bad token."""
    response = _call(control, "A" * 60_000)
    assert response.status_code in (400, 401), response.text
    if response.status_code == 401:
        _assert_refused(response, 401, "Unauthorized")


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "bearer", "Token abc", "Bearer  a b c"],
)
def test_bad_authorization_header_is_401(control: httpx.Client, header: str) -> None:
    response = control.get("/api/alerts", headers={"Authorization": header} if header else {})
    _assert_refused(response, 401, "Unauthorized")


def test_unicode_token_bytes_are_401(emu: EmulatorServer) -> None:
    """A raw latin-1 header httpx would refuse to build still meets a clean 401 on the wire."""
    raw = "Bearer t\u00f6k\u00ebn".encode("latin-1")
    with httpx.Client(base_url=emu.url, verify=ssl.create_default_context(cafile=str(emu.ca_cert))) as client:
        response = client.get("/api/alerts", headers=[(b"Authorization", raw)])
    _assert_refused(response, 401, "Unauthorized")


def test_other_resource_token_is_403(control: httpx.Client, make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=["Alert.Read.All", {"resource": GRAPH, "role": "ThreatHunting.Read.All"}])
    graph_token = app.token(GRAPH)
    _assert_refused(_call(control, graph_token), 403, "Forbidden")


def test_resigned_wrong_aud_is_403(control: httpx.Client, forge: Forge) -> None:
    _assert_refused(_call(control, forge.resigned(aud="https://management.azure.com")), 403, "Forbidden")


def test_deleted_app_token_is_401(control: httpx.Client, forge: Forge, app: Any) -> None:
    assert _call(control, forge.genuine).status_code == 200
    r = control.delete(f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}")
    assert r.status_code == 204, r.text
    _assert_refused(_call(control, forge.genuine), 401, "Unauthorized")


def test_revoked_consent_token_is_401(control: httpx.Client, forge: Forge, app: Any) -> None:
    assert _call(control, forge.genuine).status_code == 200
    r = control.delete(f"/_emulator/tenants/{app['tenantId']}/consent/{app['appId']}")
    assert r.status_code == 204, r.text
    _assert_refused(_call(control, forge.genuine), 401, "Unauthorized")


def test_other_tenants_token_cannot_reach_its_resources(
    control: httpx.Client, make_app: Callable[..., Any], make_tenant: Callable[..., Any]
) -> None:
    """Fabrikam's valid token, Contoso's alert id: the alert does not exist for Fabrikam (404)."""
    contoso = make_app(permissions=["Alert.Read.All"])
    fabrikam_tid = make_tenant("Fabrikam")["tenantId"]
    fabrikam = make_app(permissions=["Alert.Read.All"], tenant=fabrikam_tid)
    r = control.post(f"/_emulator/tenants/{contoso['tenantId']}/seed", json={"machines": 2, "alerts": 3})
    assert r.status_code == 200, r.text
    alert_id = control.get("/api/alerts", headers=contoso.headers()).json()["value"][0]["id"]
    assert control.get(f"/api/alerts/{alert_id}", headers=contoso.headers()).status_code == 200
    response = control.get(f"/api/alerts/{alert_id}", headers=fabrikam.headers())
    _assert_refused(response, 404, "ResourceNotFound")
    assert "alertCreationTime" not in response.text and "title" not in response.text


def test_token_for_tenant_where_app_has_no_principal_is_401(
    control: httpx.Client, forge: Forge, make_tenant: Callable[..., Any]
) -> None:
    """A correctly signed token naming a tenant where the app was never consented."""
    other = make_tenant("Fabrikam")["tenantId"]
    token = forge.resigned(tid=other, iss=f"https://sts.windows.net/{other}/")
    _assert_refused(_call(control, token), 401, "Unauthorized")


def test_roles_come_from_the_signature_not_the_caller(control: httpx.Client, forge: Forge) -> None:
    """Without Machine.Isolate the genuine token cannot isolate (403), and tampering cannot add it (401)."""
    r = control.post(
        "/api/machines/" + "a" * 40 + "/isolate",
        json={"Comment": "x", "IsolationType": "Full"},
        headers={"Authorization": f"Bearer {forge.genuine}"},
    )
    _assert_refused(r, 403, "Forbidden")
    r = control.post(
        "/api/machines/" + "a" * 40 + "/isolate",
        json={"Comment": "x", "IsolationType": "Full"},
        headers={"Authorization": f"Bearer {forge.tampered_payload()}"},
    )
    _assert_refused(r, 401, "Unauthorized")


def test_forgeries_leave_no_side_effects(control: httpx.Client, forge: Forge) -> None:
    """A refused token is journaled as refused and names no app (it was never trusted)."""
    control.delete("/_emulator/requests")
    for name in ("alg-none", "hs256-signed-with-public-key", "tampered-payload"):
        _call(control, FORGERIES[name](forge))
    entries = control.get("/_emulator/requests").json()["value"]
    assert [e["status"] for e in entries] == [401, 401, 401]
    assert all(e["appId"] is None for e in entries)
