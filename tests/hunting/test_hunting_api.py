"""The three hunting endpoints over the emulator's real HTTPS socket: shapes, permissions, limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mdekit.emulator.hunting.engine import RESULT_SIZE_MESSAGE, Limits
from mdekit.emulator.hunting.store import hunting_store

pytestmark = pytest.mark.socket

MDE_URI = "https://api.securitycenter.microsoft.com"
MTP_URI = "https://api.security.microsoft.com"
GRAPH_URI = "https://graph.microsoft.com"
Q = "DeviceProcessEvents | summarize n = count() by DeviceId | order by n desc"


def _post(control: httpx.Client, path: str, token: str | None, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return control.post(path, json=body, headers=headers)


@pytest.fixture
def mde_token(make_app: Callable[..., Any]) -> str:
    return str(make_app(permissions=["AdvancedQuery.Read.All"]).token(MDE_URI))


def test_mde_shape_and_types(control: httpx.Client, mde_token: str) -> None:
    r = _post(
        control,
        "/api/advancedqueries/run",
        mde_token,
        {"Query": "DeviceNetworkEvents | take 3 | project Timestamp, DeviceId, RemotePort, AdditionalFields"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["Stats", "Schema", "Results"]
    assert {"ExecutionTime", "resource_usage", "dataset_statistics"} <= set(body["Stats"])
    assert body["Schema"] == [
        {"Name": "Timestamp", "Type": "DateTime"},
        {"Name": "DeviceId", "Type": "String"},
        {"Name": "RemotePort", "Type": "Int32"},
        {"Name": "AdditionalFields", "Type": "String"},  # a string holding JSON, per the schema page
    ]
    assert len(body["Results"]) == 3
    for row in body["Results"]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", row["Timestamp"])
        assert re.fullmatch(r"[0-9a-f]{40}", row["DeviceId"])


def test_mde_results_are_consistent_across_queries(control: httpx.Client, mde_token: str) -> None:
    total = _post(
        control, "/api/advancedqueries/run", mde_token, {"Query": "DeviceProcessEvents | count"}
    ).json()
    grouped = _post(control, "/api/advancedqueries/run", mde_token, {"Query": Q}).json()
    assert sum(r["n"] for r in grouped["Results"]) == total["Results"][0]["Count"] > 0
    devices = _post(
        control, "/api/advancedqueries/run", mde_token, {"Query": "DeviceInfo | distinct DeviceId"}
    ).json()
    assert {r["DeviceId"] for r in grouped["Results"]} <= {r["DeviceId"] for r in devices["Results"]}


def test_xdr_endpoint_needs_its_own_resource(control: httpx.Client, make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=[{"resource": MTP_URI, "role": "AdvancedHunting.Read.All"}])
    ok = _post(control, "/api/advancedhunting/run", app.token(MTP_URI), {"Query": "AlertInfo | count"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["Schema"] == [{"Name": "Count", "Type": "Int64"}]


def test_graph_shape_timespan_and_errors(control: httpx.Client, make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=[{"resource": GRAPH_URI, "role": "ThreatHunting.Read.All"}])
    token = app.token(GRAPH_URI)
    r = _post(control, "/v1.0/security/runHuntingQuery", token, {"Query": "DeviceLogonEvents | count"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"].endswith("#microsoft.graph.security.huntingQueryResults")
    assert body["schema"] == [{"name": "Count", "type": "Int64"}]
    all_days = body["results"][0]["Count"]
    r = _post(
        control,
        "/v1.0/security/runHuntingQuery",
        token,
        {"Query": "DeviceLogonEvents | count", "Timespan": "P2D"},
    )
    assert 0 <= r.json()["results"][0]["Count"] < all_days
    bad = _post(control, "/v1.0/security/runHuntingQuery", token, {"Query": "DeviceInfo | where"})
    assert bad.status_code == 400
    err = bad.json()["error"]
    assert err["code"] == "BadRequest" and "on line [1," in err["message"]
    assert set(err["innerError"]) == {"date", "request-id", "client-request-id"}


def test_permissions_and_audience(control: httpx.Client, make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    r = _post(control, "/api/advancedqueries/run", app.token(MDE_URI), {"Query": "DeviceInfo"})
    assert r.status_code == 403
    assert "API required roles: AdvancedQuery.Read.All" in r.json()["error"]["message"]
    # an MDE token is not a Graph token
    r = _post(control, "/v1.0/security/runHuntingQuery", app.token(MDE_URI), {"Query": "DeviceInfo"})
    assert r.status_code == 403 and "innerError" in r.json()["error"]
    r = _post(control, "/api/advancedqueries/run", None, {"Query": "DeviceInfo"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"


def test_bad_body_unsupported_operator(control: httpx.Client, mde_token: str) -> None:
    r = _post(control, "/api/advancedqueries/run", mde_token, {"query": "DeviceInfo"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingRequiredParameter"
    r = _post(
        control,
        "/api/advancedqueries/run",
        mde_token,
        {"Query": "DeviceInfo | mv-apply x = LoggedOnUsers on (take 1)"},
    )
    assert r.status_code == 400 and "Unsupported operator 'mv-apply'" in r.json()["error"]["message"]
    huge = "9" * 5000  # more digits than int() converts: named, not "an unexpected error"
    r = _post(control, "/api/advancedqueries/run", mde_token, {"Query": f"DeviceInfo | take {huge}"})
    assert r.status_code == 400 and "out of the range of long" in r.json()["error"]["message"], r.text


def test_result_size_cap_and_row_limit(emu: Any, control: httpx.Client, mde_token: str) -> None:
    store = hunting_store(emu.state)
    try:
        store.limits = Limits(max_result_bytes=2000)
        r = _post(control, "/api/advancedqueries/run", mde_token, {"Query": "DeviceProcessEvents"})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == RESULT_SIZE_MESSAGE
        store.limits = Limits(max_rows=5)
        r = _post(control, "/api/advancedqueries/run", mde_token, {"Query": "DeviceInfo | project DeviceId"})
        assert r.status_code == 200 and len(r.json()["Results"]) == 5
    finally:
        store.limits = Limits()


def test_throttled_per_tenant(emu: Any, control: httpx.Client, mde_token: str) -> None:
    emu.state.defender.throttle.configure(scale=2 / 45)  # 2 calls a minute instead of 45
    codes = [
        _post(control, "/api/advancedqueries/run", mde_token, {"Query": "AlertInfo | count"})
        for _ in range(3)
    ]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["Retry-After"]) > 0
    assert codes[2].json()["error"]["code"] == "TooManyRequests"


def test_hunting_data_follows_defender_changes_without_rereading_them(
    emu: Any, control: httpx.Client, make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All", "Alert.ReadWrite.All"])
    seed = control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 4, "alerts": 8})
    assert seed.status_code == 200, seed.text
    from mdekit.emulator.hunting.data import world

    reads: list[str] = []
    original = world._alert_rows
    monkeypatch.setattr(world, "_alert_rows", lambda d, t: (reads.append(t), original(d, t))[1])
    token = app.token(MDE_URI)

    def alert_ids() -> list[str]:
        r = _post(control, "/api/advancedqueries/run", token, {"Query": "AlertInfo | project AlertId"})
        return [row["AlertId"] for row in r.json()["Results"]]

    ids = alert_ids()
    assert len(ids) == 8 and alert_ids() == ids and len(reads) == 1  # unchanged: built once
    patched = control.patch(
        f"/api/alerts/{ids[0]}", json={"status": "Resolved"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert patched.status_code == 200, patched.text
    assert sorted(alert_ids()) == sorted(ids) and len(reads) == 2  # an updated alert: rebuilt
    control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 4, "alerts": 11})
    assert len(alert_ids()) == 11 and len(reads) == 3


def test_unchanged_defender_data_costs_no_aggregate_per_query() -> None:
    from mdekit.emulator.defender.seed.generator import seed_tenant
    from mdekit.emulator.state import EmulatorState

    state = EmulatorState.open(None)
    try:
        tid = state.directory.create_tenant("Fingerprints").id
        seed_tenant(state.defender, tid, machines=3, alerts=6, seed=1)
        db = state.defender.db
        seen: list[str] = []
        db.conn.set_trace_callback(seen.append)
        assert len(state.hunting.run(tid, "AlertInfo").rows) == 6
        assert any("FROM def_alerts WHERE tenant" in s for s in seen)  # first look: the fingerprint
        seen.clear()
        assert len(state.hunting.run(tid, "AlertInfo").rows) == 6
        assert not any("count(*)" in s for s in seen), seen  # nothing written since: no aggregate
        first = next(iter(state.defender.iter_alerts(tid)))
        with db.tx() as c:
            c.execute("DELETE FROM def_alerts WHERE tenant = tk(?) AND id = ?", (tid, first["id"]))
        seen.clear()
        assert len(state.hunting.run(tid, "AlertInfo").rows) == 5  # a write: looked again, rebuilt
        assert any("count(*)" in s for s in seen)
    finally:
        state.close()
