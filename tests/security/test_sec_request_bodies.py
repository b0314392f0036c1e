"""Request bodies over the real HTTPS socket (issue 13): size limits, deep nesting, field lengths.

Every surface answers in its own envelope: 413 beyond its body limit (also for a chunked body
that never says its length), 400 for JSON nested deeper than any real body; never a 500 or a
dropped connection. Before: a 50 MB tenant name was stored, and nested JSON answered 500 with a
3,000-line traceback (``RecursionError``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.emulator.limits import (
    MAX_BODY_BYTES,
    MAX_DISPLAY_NAME,
    MAX_JSON_DEPTH,
    MAX_REDIRECT_URI,
    MAX_REDIRECT_URIS,
)

ROLES: list[Any] = [r for r in MDE.roles if r != "SecurityBaselinesAssessment.Read.All"]
ROLES += [{"resource": MTP.identifier_uris[0], "role": r} for r in MTP.roles]
ROLES += [{"resource": GRAPH.identifier_uris[0], "role": r} for r in GRAPH.roles]


class Caller:
    """An app with every role and its bearer headers per API."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tid = app["tenantId"]
        self.mde = app.headers()
        self.xdr = app.headers(MTP.identifier_uris[0])
        self.graph = app.headers(GRAPH.identifier_uris[0])


@pytest.fixture
def caller(make_app: Callable[..., Any], control: httpx.Client) -> Caller:
    app = make_app(permissions=ROLES)
    r = control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 3, "alerts": 5})
    assert r.status_code == 200, r.text
    return Caller(app)


def _deep_json(depth: int) -> str:
    # built as text: json.dumps itself recurses
    return "[" * depth + "]" * depth


# (name, path, headers attribute, body for a well-formed request with padding slot)
SURFACES = {
    "entra": ("/{tid}/oauth2/v2.0/token", None),
    "mde": ("/api/indicators", "mde"),
    "mde-hunting": ("/api/advancedqueries/run", "mde"),
    "xdr-hunting": ("/api/advancedhunting/run", "xdr"),
    "graph": ("/v1.0/security/runHuntingQuery", "graph"),
    "control": ("/_emulator/tenants", None),
}


def _limit(name: str) -> int:
    return MAX_BODY_BYTES[name.split("-")[0].replace("xdr", "mde")]


def _check_envelope(name: str, r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text[:500]
    body = r.json()
    if name == "entra":
        assert body["error"] == "invalid_request" and body["error_codes"] == [9002313]
        assert body["error_description"].startswith("AADSTS9002313:")
        assert r.headers["cache-control"].startswith("no-store")
        return {"message": body["error_description"]}
    if name == "control":
        assert set(body) == {"detail"}
        return {"message": body["detail"]}
    error = body["error"]
    if name == "graph":
        assert set(error) == {"code", "message", "innerError"}
        assert error["innerError"]["request-id"] == r.headers["request-id"]
    else:
        assert set(error) == {"code", "message", "target"} and error["target"] == r.headers["request-id"]
    return dict(error)


def _post(control: httpx.Client, caller: Caller, name: str, content: Any, **kw: Any) -> httpx.Response:
    path, auth = SURFACES[name]
    headers = {"Content-Type": "application/json", **(getattr(caller, auth) if auth else {})}
    if name == "entra":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return control.post(path.format(tid=caller.tid), content=content, headers=headers, **kw)


@pytest.mark.parametrize("name", list(SURFACES))
def test_a_body_over_the_limit_is_413_in_the_surfaces_envelope(
    control: httpx.Client, caller: Caller, name: str
) -> None:
    limit = _limit(name)
    r = _post(control, caller, name, b" " * (limit + 1))
    error = _check_envelope(name, r, 413)
    assert f"{limit:,} bytes" in error["message"]
    if name not in ("entra", "control"):
        assert error["code"] == "RequestEntityTooLarge"


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    while total > 0:
        yield b" " * min(size, total)
        total -= size


@pytest.mark.parametrize("name", ["mde", "graph", "control"])
def test_a_chunked_body_that_keeps_coming_is_413(control: httpx.Client, caller: Caller, name: str) -> None:
    r = _post(control, caller, name, _chunks(_limit(name) + 1))
    _check_envelope(name, r, 413)


def test_a_body_exactly_at_the_limit_is_read(control: httpx.Client) -> None:
    body = b"{}" + b" " * (MAX_BODY_BYTES["control"] - 2)
    r = control.post("/_emulator/clock", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def _deep_body(name: str, caller: Caller, depth: int) -> str:
    deep = _deep_json(depth)
    if name in ("mde-hunting", "xdr-hunting", "graph"):
        return f'{{"Query": "DeviceInfo | take 1", "Extra": {deep}}}'
    if name == "mde":
        return f'{{"indicatorValue": "a.example", "indicatorType": "DomainName", "x": {deep}}}'
    return f'{{"displayName": "Deep", "x": {deep}}}'


DEEP = ["mde", "mde-hunting", "xdr-hunting", "graph", "control"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_500, 100_000])
@pytest.mark.parametrize("name", DEEP)
def test_deeply_nested_json_is_a_400_in_the_surfaces_envelope(
    control: httpx.Client, caller: Caller, name: str, depth: int
) -> None:
    r = _post(control, caller, name, _deep_body(name, caller, depth))
    error = _check_envelope(name, r, 400)
    assert f"deeper than {MAX_JSON_DEPTH}" in error["message"]


def test_batch_update_with_nested_ids_is_a_400(control: httpx.Client, caller: Caller) -> None:
    body = '{"alertIds": ' + _deep_json(50_000) + ', "status": "Resolved"}'
    r = control.post("/api/alerts/batchUpdate", content=body, headers=caller.mde)
    assert _check_envelope("mde", r, 400)["code"] == "InvalidRequestBody"


def test_nesting_within_the_limit_is_parsed(control: httpx.Client, caller: Caller) -> None:
    # the same body, MAX_JSON_DEPTH deep, gets past the reader to the route's own checks
    r = _post(control, caller, "control", _deep_body("control", caller, MAX_JSON_DEPTH - 1))
    assert r.status_code == 201, r.text  # unknown fields are ignored by the control plane


def test_a_bearer_token_with_deeply_nested_claims_is_a_401(control: httpx.Client, caller: Caller) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    token = ".".join([b64(b'{"alg":"RS256"}'), b64(_deep_json(50_000).encode()), b64(b"sig")])
    r = control.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
    assert _check_envelope("mde", r, 401)


# ---- field lengths on the control plane ---------------------------------------------------------


def test_a_tenant_name_longer_than_the_limit_is_refused(control: httpx.Client) -> None:
    r = control.post("/_emulator/tenants", json={"displayName": "n" * (MAX_DISPLAY_NAME + 1)})
    assert r.status_code == 400 and f"at most {MAX_DISPLAY_NAME}" in r.json()["detail"]
    r = control.post("/_emulator/tenants", json={"displayName": "n" * MAX_DISPLAY_NAME})
    assert r.status_code == 201, r.text
    names = [t["displayName"] for t in control.get("/_emulator/tenants").json()["value"]]
    assert max(len(n) for n in names) == MAX_DISPLAY_NAME


def _uris(count: int) -> list[str]:
    return [f"https://x.example/{n}" for n in range(count)]


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": "a" * (MAX_DISPLAY_NAME + 1)},
        {"displayName": "ok", "redirectUris": ["https://x.example/" + "p" * MAX_REDIRECT_URI]},
        {"displayName": "ok", "redirectUris": _uris(MAX_REDIRECT_URIS + 1)},
        {"displayName": "ok", "redirectUris": "https://x.example"},
        {"displayName": "ok", "permissions": ["Alert.Read.All"] * 10_000},
    ],
)
def test_app_fields_over_their_limits_are_refused_and_nothing_is_created(
    control: httpx.Client, make_tenant: Callable[..., dict[str, Any]], body: dict[str, Any]
) -> None:
    tid = make_tenant("Limits")["tenantId"]
    r = control.post(f"/_emulator/tenants/{tid}/applications", json=body)
    assert r.status_code == 400, r.text[:300]
    assert len(r.text) < 2_000  # the oversized value is not echoed back
    assert control.get(f"/_emulator/tenants/{tid}/applications").json()["value"] == []


def test_a_tenant_domain_longer_than_a_dns_name_is_refused(control: httpx.Client) -> None:
    domain = ".".join(["a" * 60] * 5) + ".example"
    r = control.post("/_emulator/tenants", json={"displayName": "D", "domain": domain})
    assert r.status_code == 400 and "DNS name" in r.json()["detail"]
    assert len(r.text) < 1_000
