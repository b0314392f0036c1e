"""The served OpenAPI description covers the Defender API, and property-based calls built from it get no 5xx.

A bounded hypothesis run (schemathesis-style, without its dependency tree): operations are drawn
from ``/_emulator/openapi.json``; path and query parameters are arbitrary text, bodies follow the
declared schema with arbitrary values (and sometimes arbitrary JSON). Every answer must be < 500
and, when it is an error, use the MDE envelope.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from defender_helpers import ALL_ROLES, mint, register_app
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdekit.emulator.app import create_app
from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_TEXT = st.text(
    alphabet=st.characters(
        min_codepoint=33,
        max_codepoint=0x2FFF,
        blacklist_categories=("Cs", "Cc", "Zs"),
        blacklist_characters="/?#%\\",
    ),
    min_size=1,
    max_size=30,
)
_TAGS = {"Alerts", "Machines", "Machine actions", "Indicators", "Files, IPs, domains, users, investigations"}
_TAGS |= {"Vulnerabilities", "Software", "Recommendations", "Remediation, scores, antivirus health"}
_TAGS |= {"Assessment exports", "Live response"}
_FILTER = st.one_of(
    _TEXT,
    st.sampled_from(
        [
            "status eq 'New'",
            "lastSeen gt 2018-08-01Z",
            "startswith(computerDnsName,'a')",
            "id eq null",
            "((",
            "severity eq 'High' or not (status eq 'Resolved')",
            "rbacGroupId eq 99999999999999999999999",
            "incidentId eq -99999999999999999999",
            "99999999999999999999",
        ]
    ),
)


@pytest.fixture(scope="module")
def fuzz_env() -> Any:
    state = EmulatorState.open(None, clock=VirtualClock(frozen_at=1_900_000_000))
    tid = state.directory.create_tenant("Fuzz").id
    seed_tenant(state.defender, tid, machines=5, alerts=20, seed=1)
    state.defender.throttle.configure(enabled=False)
    app_id = register_app(state, tid, ALL_ROLES)
    token = mint(state, tid, ALL_ROLES, app_id=app_id, lifetime=10**6)
    with TestClient(
        create_app(state), base_url="https://api.securitycenter.microsoft.com", raise_server_exceptions=False
    ) as client:
        spec = client.get("/_emulator/openapi.json").json()
        yield client, token, spec
    state.close()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if _TAGS & set(op.get("tags", []))
    ]


def test_spec_describes_the_defender_api(fuzz_env: Any) -> None:
    _, _, spec = fuzz_env
    ops = _operations(spec)
    assert len(ops) >= 50
    for _method, _path, op in ops:
        assert {"401", "403", "429"} <= set(op["responses"]), op["operationId"]
        assert op.get("security"), op["operationId"]
    listing = spec["paths"]["/api/alerts"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"$filter", "$top", "$skip"}
    isolate = spec["paths"]["/api/machines/{id}/isolate"]["post"]
    schema = isolate["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["Comment"]
    assert schema["properties"]["IsolationType"]["enum"] == ["Full", "Selective", "UnManagedDevice"]


def _value(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in spec:
        return st.one_of(st.sampled_from(spec["enum"]), st.text(max_size=10))
    kind = spec.get("type")
    if kind == "array":
        return st.lists(_value(spec.get("items", {})), max_size=3)
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers()
    if kind == "object":
        return st.dictionaries(
            st.sampled_from(["indicatorValue", "indicatorType", "action", "title", "x"]),
            st.text(string.hexdigits, max_size=40),
            max_size=5,
        )
    return st.text(max_size=40)


@st.composite
def requests(draw: st.DrawFn, spec: dict[str, Any]) -> tuple[str, str, dict[str, str], Any]:
    method, path, op = draw(st.sampled_from(_operations(spec)))
    query: dict[str, str] = {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", draw(_TEXT))
        elif param["in"] == "query" and draw(st.booleans()):
            query[param["name"]] = draw(_FILTER if param["name"] == "$filter" else _TEXT)
    body: Any = None
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        props = content["schema"].get("properties", {})
        body = draw(
            st.one_of(
                st.fixed_dictionaries({}, optional={k: _value(v) for k, v in props.items()}),
                _JSON,
            )
        )
    return method, path, query, body


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_server_errors(fuzz_env: Any, data: st.DataObject) -> None:
    client, token, spec = fuzz_env
    method, path, query, body = data.draw(requests(spec))
    r = client.request(method, path, params=query, json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 500, (method, path, query, body, r.text)
    if r.status_code >= 400:
        error = r.json()["error"]
        assert set(error) == {"code", "message", "target"} and error["target"] == r.headers["request-id"]
