"""Fidelity suite: what the emulator serves, compared with Microsoft's documented examples and public
real captures (``fixtures/*.json``: each case names its source).

For every case the emulator's answer, over its real HTTPS socket with tokens from its own token
endpoint, must have the example's keys in the example's order, with the same JSON types, all the
way down (objects and the first element of arrays); the ``@odata.context`` fragment must be the
example's. Values differ (the examples are anonymised facts); a ``null`` in the example allows any
type (the source shows no value), and the emulator may answer ``null`` where the property is
nullable in its entity data model. Where docs and a capture disagree, the fixture follows the capture.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mdekit.catalog import MDE, MTP
from mdekit.emulator.server import EmulatorServer

pytestmark = pytest.mark.socket

FIXTURES = Path(__file__).parent / "fixtures"
FAMILIES = sorted(p.stem for p in FIXTURES.glob("*.json"))
_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type(value: Any) -> str:
    """The JSON type of *value* (``integer`` and ``number`` apart: .NET writes Int64 and Double apart)."""
    if value is None:
        return "null"
    return next(name for kind, name in _TYPES if isinstance(value, kind))


def shape_differences(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Where *actual* departs from *expected*'s keys, key order and JSON types (empty: the same shape)."""
    if expected is None or actual is None:
        return []  # a null example shows no type; a null answer is checked by the caller's nullability
    kind, got = json_type(expected), json_type(actual)
    if kind == "number" and got == "integer":  # a double that happens to be whole
        got = "number"
    if kind != got:
        return [f"{where}: {got}, expected {kind}"]
    if isinstance(expected, dict):
        keys_e = [k for k in expected if k != "@odata.context"]
        keys_a = [k for k in actual if k != "@odata.context"]
        if keys_e != keys_a:
            return [f"{where}: keys {keys_a}, expected {keys_e}"]
        return [d for k in keys_e for d in shape_differences(expected[k], actual[k], f"{where}.{k}")]
    if isinstance(expected, list) and expected and actual:
        return shape_differences(expected[0], actual[0], f"{where}[0]")
    return []


def test_shape_differences_catch_order_type_and_nesting() -> None:
    """The comparison itself fails on each kind of departure (a check that cannot fail proves nothing)."""
    example = {"a": 1, "b": "x", "c": [{"d": True}], "e": 1.5}
    assert shape_differences(example, {"a": 2, "b": "y", "c": [{"d": False}], "e": 2}) == []
    assert shape_differences(example, {"b": "y", "a": 2, "c": [], "e": 2.0}) != []  # order
    assert shape_differences(example, {"a": "2", "b": "y", "c": [], "e": 2.0}) == [
        "$.a: string, expected integer"
    ]
    assert shape_differences(example, {"a": 2, "b": "y", "c": [{"d": 1}], "e": 2.0}) == [
        "$.c[0].d: integer, expected boolean"
    ]
    assert shape_differences(example, {"a": 2, "b": "y", "c": [], "e": 2.0, "f": None}) != []  # extra key


def _fragment(context: str) -> str:
    return context.split("$metadata#", 1)[-1]


def _client(emu: EmulatorServer, headers: dict[str, str] | None = None) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(emu.ca_cert))
    return httpx.Client(base_url=emu.url, verify=ctx, headers=headers or {}, timeout=60)


@pytest.fixture
def world(
    make_app: Callable[..., Any], control: httpx.Client, emu: EmulatorServer
) -> Iterator[dict[str, Any]]:
    """A seeded tenant; HTTPS clients with every MDE role, with none, with a Graph role and without a
    token; the ids the fixtures' paths name."""
    roles = [r for r in MDE.roles if r != "SecurityBaselinesAssessment.Read.All"]
    xdr_role = {"resource": MTP.identifier_uris[0], "role": "Incident.Read.All"}
    graph_roles = ["SecurityIncident.Read.All", "SecurityAlert.Read.All"]
    app = make_app(permissions=[*roles, *graph_roles, xdr_role], display_name="fidelity")
    none = make_app(permissions=["Score.Read.All"], display_name="no roles")
    tenant = app["tenantId"]
    seeded = control.post(f"/_emulator/tenants/{tenant}/seed", json={"machines": 20, "alerts": 40, "seed": 3})
    assert seeded.status_code == 200, seeded.text
    graph_token = app.token("https://graph.microsoft.com")
    clients = {
        "mde": _client(emu, app.headers()),
        "no roles": _client(emu, none.headers()),
        "none": _client(emu),
        "graph": _client(emu, {"Authorization": f"Bearer {graph_token}"}),
        "xdr": _client(emu, {"Authorization": f"Bearer {app.token(MTP.identifier_uris[0])}"}),
    }
    mde = clients["mde"]

    def first(path: str) -> dict[str, Any]:
        r = mde.get(path)
        assert r.status_code == 200, r.text
        return r.json()["value"][0]  # type: ignore[no-any-return]

    alert = first("/api/alerts?$expand=evidence&$top=50")
    windows = first("/api/machines?$filter=osPlatform eq 'Windows10'")
    action = mde.post(f"/api/machines/{windows['id']}/runAntiVirusScan", json={"Comment": "fidelity"})
    assert action.status_code == 201, action.text
    indicator = {"indicatorValue": "fidelity.example", "indicatorType": "DomainName", "action": "Alert"}
    assert (
        mde.post("/api/indicators", json={**indicator, "title": "t", "description": "d"}).status_code == 200
    )
    kb = first("/api/vulnerabilities/machinesVulnerabilities?$filter=fixingKbId ne null&$top=1")
    sha1 = next(
        e["sha1"]
        for a in mde.get("/api/alerts?$expand=evidence").json()["value"]
        for e in a["evidence"]
        if e["sha1"]
    )
    ids = {
        "alert": alert["id"],
        "incident": str(alert["incidentId"]),
        "machine": alert["machineId"],
        "action": action.json()["id"],
        "sha1": sha1,
        "software": first("/api/Software?$top=1")["id"],
        "kb_machine": kb["machineId"],
        "cve": kb["cveId"],
        "recommendation": first("/api/recommendations?$top=1")["id"],
    }
    yield {"clients": clients, "ids": ids, "app": app}
    for c in clients.values():
        c.close()


def _answer(world: dict[str, Any], case: dict[str, Any]) -> httpx.Response:
    if case.get("token_error"):
        app = world["app"]
        form = {
            "grant_type": "password",
            "client_id": app["appId"],
            "scope": f"{MDE.identifier_uris[0]}/.default",
        }
        with _client_for_token(world) as c:
            return c.post(f"/{app['tenantId']}/oauth2/v2.0/token", data=form)
    client = world["clients"][case.get("token", "mde")]
    return client.get(case["path"].format(**world["ids"]))  # type: ignore[no-any-return]


def _client_for_token(world: dict[str, Any]) -> httpx.Client:
    app = world["app"]
    ctx = ssl.create_default_context(cafile=app["caCert"])
    return httpx.Client(base_url=app["url"], verify=ctx, timeout=60)


def _nullable_misses(expected: Any, actual: Any) -> list[str]:
    """Top-level properties the example shows with a value and the emulator answers ``null`` for,
    where the entity data model does not declare them nullable (ids, keys)."""
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        return []
    return [
        k for k, v in expected.items() if v is not None and actual.get(k, 0) is None and k in ("id", "value")
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_matches_its_documented_shapes(family: str, world: dict[str, Any]) -> None:
    cases = json.loads((FIXTURES / f"{family}.json").read_text())["cases"]
    problems: list[str] = []
    for case in cases:
        r = _answer(world, case)
        name = f"{case['name']} ({case['source']})"
        if r.status_code != case.get("status", 200):
            problems.append(
                f"{name}: status {r.status_code}, expected {case.get('status', 200)}: {r.text[:300]}"
            )
            continue
        body = r.json()
        example = case["example"]
        if "@odata.context" in example and _fragment(body.get("@odata.context", "")) != _fragment(
            example["@odata.context"]
        ):
            problems.append(f"{name}: context {body.get('@odata.context')!r}")
        if (
            isinstance(body, dict)
            and "value" in example
            and isinstance(body.get("value"), list)
            and not body["value"]
        ):
            problems.append(f"{name}: the emulator answered an empty list (nothing to compare)")
        problems += [f"{name}: {d}" for d in shape_differences(example, body)]
        problems += [f"{name}: null {k}" for k in _nullable_misses(example, body)]
        if r.status_code == 200 and case.get("path", "").startswith("/api/"):
            assert r.headers.get("odata-version") == "4.0", name
    assert not problems, "\n".join(problems)
