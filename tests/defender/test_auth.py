"""Every Defender operation: 401 without a valid token, 403 without its role, served with it; "
"tenants isolated."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from defender_helpers import Api, api_routes, mint, register_app
from fastapi.testclient import TestClient
from tvm_helpers import TVM_CALLS

from mdekit.catalog import MDE, OPERATIONS, find_operation
from mdekit.emulator.state import EmulatorState

SHA1 = "a" * 40

# The paths come from the catalogue and the operations from the app's routes: only what the
# catalogue cannot know is listed here. Placeholders: {m} machine id, {a} alert id, {x} action id,
# {i} indicator id, {f} file hash, {v} investigation id, {now} the emulator's time.
#: The id a templated path gets, by its collection (``/api/<collection>/{id}``).
IDS = {
    "alerts": "{a}",
    "machines": "{m}",
    "machineactions": "{x}",
    "indicators": "{i}",
    "files": "{f}",
    "ips": "10.0.0.1",
    "domains": "example.com",
    "users": "alice",
    "investigations": "{v}",
    "libraryfiles": "{l}",
}
OTHER_PARAMS = {"ip": "10.0.0.1", "timestamp": "{now}", "index": "0"}
QUERIES = {"machines.find_by_tag": "?tag=VIP"}
_INDICATOR = {"indicatorType": "FileSha1", "action": "Block", "title": "t", "description": "d"}
#: Request bodies of the operations that take one (every served POST/PATCH must have one).
BODIES: dict[str, Any] = {
    "alerts.update": {"status": "InProgress"},
    "alerts.batch_update": {"alertIds": ["{a}"], "status": "InProgress"},
    "alerts.create_by_reference": {
        "machineId": "{m}",
        "severity": "Low",
        "title": "t",
        "description": "d",
        "recommendedAction": "r",
        "eventTime": "2024-01-01T00:00:00Z",
        "reportId": "1",
        "category": "Execution",
    },
    "machines.update": {"deviceValue": "High"},
    "machines.tags": {"Value": "t1", "Action": "Add"},
    "machines.tags_bulk": {"Value": "t1", "Action": "Add", "MachineIds": ["{m}"]},
    "machines.set_device_value": {"DeviceValue": "Low"},
    "actions.isolate": {"Comment": "c", "IsolationType": "Full"},
    "actions.unisolate": {"Comment": "c"},
    "actions.restrict": {"Comment": "c"},
    "actions.unrestrict": {"Comment": "c"},
    "actions.scan": {"Comment": "c", "ScanType": "Quick"},
    "actions.collect": {"Comment": "c"},
    "actions.quarantine": {"Comment": "c", "Sha1": SHA1},
    "actions.offboard": {"Comment": "c"},
    "actions.cancel": {"Comment": "c"},
    "actions.live_response": {
        "Commands": [{"type": "RunScript", "params": [{"key": "ScriptName", "value": "{l}"}]}],
        "Comment": "c",
    },
    "investigations.start": {"Comment": "c"},
    # multipart/form-data, not JSON (see _call)
    "library.upload": {"Description": "uploaded by the role test"},
    "indicators.submit": {"indicatorValue": SHA1, **_INDICATOR},
    "indicators.import": {"Indicators": [{"indicatorValue": "b" * 40, **_INDICATOR}]},
    "indicators.batch_delete": {"IndicatorIds": ["{i}"]},
}
#: Every WindowsDefenderATP operation the routes guard with a role (``require(op)``), from the app.
#: (XDR and Graph operations take tokens of their own resources: tests/incidents covers them.)
SERVED = sorted(
    {
        found[0].name
        for route in api_routes()
        if route.required is not None
        and (found := find_operation(route.method, route.path))
        and found[0].resource == MDE.name
        and found[0].name not in TVM_CALLS  # TVM role checks: test_tvm_api.py and test_tvm_socket.py
    }
)


def _path_template(name: str) -> str:
    """The catalogue path of *name* with its parameters replaced by test placeholders."""
    op = OPERATIONS[name]
    collection = op.path.split("/")[2]

    def fill(m: re.Match[str]) -> str:
        return IDS[collection] if m.group(1) == "id" else OTHER_PARAMS[m.group(1)]

    return re.sub(r"\{([^}]+)\}", fill, op.path) + QUERIES.get(name, "")


def test_every_served_operation_is_covered() -> None:
    assert len(SERVED) >= 50
    with_body = {n for n in SERVED if OPERATIONS[n].method in ("POST", "PATCH")}
    assert sorted(with_body - set(BODIES)) == [], "add a request body for these to BODIES"
    assert sorted(set(BODIES) - set(SERVED)) == [], "BODIES lists operations no route serves"
    sample = dict.fromkeys(("a", "m", "x", "i", "f", "v", "l", "now"), "1")
    for name in SERVED:  # every path parameter has a value (a KeyError names the one missing)
        assert "{" not in _path_template(name).format(**sample), name


@pytest.fixture
def ids(api: Api, state: EmulatorState, seeded: str) -> dict[str, str]:
    """Real ids from the seeded tenant (a Windows machine, its alert, an action, an indicator)."""
    windows = api.get("/api/machines?$filter=startswith(osPlatform,'Windows')&$top=2").json()["value"]
    machine = windows[0]
    alert = api.get(f"/api/machines/{machine['id']}/alerts?$top=1").json()["value"]
    alert = alert[0] if alert else api.get("/api/alerts?$top=1").json()["value"][0]
    # the action lives on another machine, so creating actions on `machine` never conflicts with it
    action = api.post(f"/api/machines/{windows[1]['id']}/runAntiVirusScan", {"Comment": "seed"}).json()
    indicator = api.post(
        "/api/indicators",
        {
            "indicatorValue": "c" * 40,
            "indicatorType": "FileSha1",
            "action": "Block",
            "title": "t",
            "description": "d",
        },
    ).json()
    file = api.get(f"/api/alerts/{alert['id']}/files").json()["value"][0]
    library = api.request(
        "POST", "/api/libraryfiles", files={"file": ("probe.ps1", b"Write-Output 'probe'")}
    ).json()
    inv = api.get("/api/investigations?$top=1").json()["value"][0]
    now = state.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "m": machine["id"],
        "a": alert["id"],
        "x": action["id"],
        "i": indicator["id"],
        "f": file["sha1"],
        "v": inv["id"],
        "l": library["fileName"],
        "now": now,
    }


def _call(api: Api, name: str, ids: dict[str, str]) -> Any:
    path = _path_template(name).format(**ids)
    body = BODIES.get(name)
    if body is not None:
        body = _fill(body, ids)
    if name == "library.upload":  # the one multipart operation
        return api.request("POST", path, data=body, files={"file": ("other.ps1", b"echo")})
    return api.request(OPERATIONS[name].method, path, json=body)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", SERVED)
def test_operation_needs_its_role(
    name: str, api_for: Callable[..., Api], seeded: str, ids: dict[str, str]
) -> None:
    op = OPERATIONS[name]
    unrelated = api_for(seeded, ["Score.Read.All"], name="no roles")
    r = _call(unrelated, name, ids)
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert err["code"] == "Forbidden"
    assert err["message"] == (
        f"Missing application roles. API required roles: {', '.join(op.roles)}, "
        f"application roles: Score.Read.All."
    )
    assert err["target"] == r.headers["request-id"]
    allowed = api_for(seeded, [op.roles[-1]], name="one role")
    r = _call(allowed, name, ids)
    assert r.status_code in (200, 201, 204, 404), (name, r.status_code, r.text)
    if r.status_code == 404:  # only where the seeded data cannot hold the object (e.g. package not ready)
        # (a live response result needs a finished live response action; {x} is a scan)
        assert name in ("actions.package_uri", "alerts.user", "actions.live_response_result"), r.text


def test_missing_malformed_expired_and_foreign_tokens_are_401(
    client: TestClient, state: EmulatorState, seeded: str
) -> None:
    app_id = register_app(state, seeded, ["Alert.Read.All"])
    good = mint(state, seeded, ["Alert.Read.All"], app_id=app_id)
    assert client.get("/api/alerts", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    cases = {
        "missing": {},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "tampered": {"Authorization": f"Bearer {good[:-4]}AAAA"},
        "expired": {
            "Authorization": "Bearer " + mint(state, seeded, ["Alert.Read.All"], app_id=app_id, lifetime=-10)
        },
        "wrong issuer": {
            "Authorization": "Bearer "
            + mint(state, seeded, ["Alert.Read.All"], app_id=app_id, iss="https://evil.example/")
        },
        "unknown tenant": {
            "Authorization": "Bearer "
            + mint(state, "0" * 8 + "-0000-0000-0000-" + "0" * 12, ["Alert.Read.All"], app_id=app_id)
        },
    }
    for label, headers in cases.items():
        r = client.get("/api/alerts", headers=headers)
        assert r.status_code == 401, label
        assert r.json()["error"]["code"] == "Unauthorized", label
        assert r.json()["error"]["target"] == r.headers["request-id"]


def test_token_for_another_resource_is_403(client: TestClient, state: EmulatorState, seeded: str) -> None:
    app_id = register_app(state, seeded, ["Alert.Read.All"])
    token = mint(state, seeded, ["Alert.Read.All"], app_id=app_id, aud="https://graph.microsoft.com")
    r = client.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Forbidden"


def test_deleted_service_principal_is_refused(client: TestClient, state: EmulatorState, seeded: str) -> None:
    app_id = register_app(state, seeded, ["Alert.Read.All"])
    token = mint(state, seeded, ["Alert.Read.All"], app_id=app_id)
    state.directory.revoke_consent(seeded, app_id)
    assert client.get("/api/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_real_token_from_the_token_endpoint_is_accepted(api_for: Callable[..., Api], seeded: str) -> None:
    api = api_for(seeded, ["Machine.Read.All"], real=True)
    assert api.get("/api/machines?$top=1").status_code == 200
    assert api.get("/api/alerts").status_code == 403


def test_tenants_see_only_their_own_data(
    api_for: Callable[..., Api], state: EmulatorState, seeded: str
) -> None:
    other = state.directory.create_tenant("Fabrikam").id
    mine, theirs = api_for(seeded), api_for(other)
    machine = mine.get("/api/machines?$top=1").json()["value"][0]
    alert = mine.get("/api/alerts?$top=1").json()["value"][0]
    assert theirs.get("/api/machines").json()["value"] == []
    assert theirs.get("/api/alerts").json()["value"] == []
    assert theirs.get(f"/api/machines/{machine['id']}").status_code == 404
    assert theirs.get(f"/api/alerts/{alert['id']}").status_code == 404
    assert theirs.patch(f"/api/alerts/{alert['id']}", {"status": "Resolved"}).status_code == 404
    assert theirs.post(f"/api/machines/{machine['id']}/isolate", {"Comment": "x"}).status_code == 404
    assert mine.get(f"/api/alerts/{alert['id']}").json()["status"] == alert["status"]


def test_paths_are_case_insensitive_and_versioned(api: Api) -> None:
    r = api.get("/API/Machines?$top=2")
    assert r.status_code == 200 and len(r.json()["value"]) == 2
    assert api.get("/api/v1.0/alerts?$top=1").status_code == 200
    action = api.get("/api/machines?$top=1").json()["value"][0]
    assert api.get(f"/api/MACHINES/{action['id']}/LogonUsers").status_code == 200
