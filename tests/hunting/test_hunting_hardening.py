"""Hunting never stalls or crashes the emulator: queries run off the event loop under a time budget,
the per-tenant data survives concurrent resets, hostile queries get 400s, Graph's Timespan forms,
and the per-tenant quota (over real HTTPS sockets)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mdekit.emulator.hunting.engine import RESOURCES_MESSAGE, TIMEOUT_MESSAGE, Limits
from mdekit.emulator.hunting.errors import KqlError
from mdekit.emulator.hunting.routes import parse_timespan
from mdekit.emulator.hunting.store import hunting_store

pytestmark = pytest.mark.socket

MDE_URI = "https://api.securitycenter.microsoft.com"
GRAPH_URI = "https://graph.microsoft.com"
#: A 4-way self-join: it would run for hours; the time budget stops it.
HEAVY = (
    "DeviceNetworkEvents | join kind=inner (DeviceNetworkEvents) on DeviceId "
    "| join kind=inner (DeviceNetworkEvents) on DeviceId "
    "| join kind=inner (DeviceNetworkEvents) on DeviceId | count"
)


def _post(client: httpx.Client, path: str, token: str, body: Any) -> httpx.Response:
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def _wait_until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(600):  # a bound for a broken build, not a timing assertion
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"never happened: {what}")


def test_a_heavy_query_leaves_every_other_endpoint_answering(emu: Any, make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All", "Alert.Read.All"])
    token = app.token(MDE_URI)
    store = hunting_store(emu.state)
    store.limits = Limits(max_seconds=30)
    verify = ssl.create_default_context(cafile=str(emu.ca_cert))
    outcome: dict[str, httpx.Response] = {}

    def hunt() -> None:
        with httpx.Client(base_url=emu.url, verify=verify, timeout=120) as own:
            _post(
                own, "/api/advancedqueries/run", token, {"Query": "DeviceNetworkEvents | count"}
            )  # build first
            outcome["r"] = _post(own, "/api/advancedqueries/run", token, {"Query": HEAVY})

    worker = threading.Thread(target=hunt)
    worker.start()
    _wait_until(lambda: store.busy(app["tenantId"]) > 0 and "warm" not in outcome, "the heavy query runs")
    answered: list[tuple[int, int, bool]] = []
    with httpx.Client(base_url=emu.url, verify=verify, timeout=30) as other:
        while worker.is_alive() and len(answered) < 5:
            jwks = other.get("/common/discovery/keys")
            alerts = other.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
            answered.append((jwks.status_code, alerts.status_code, worker.is_alive()))
    worker.join()
    assert answered, "the heavy query ended before anything else was asked"
    assert all(j == 200 and a == 200 for j, a, _ in answered)
    assert all(running for *_, running in answered), "answers must arrive while the hunt still runs"
    r = outcome["r"]
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] in (TIMEOUT_MESSAGE, RESOURCES_MESSAGE)


def test_reset_while_a_query_runs_closes_nothing_under_it(
    emu: Any, control: httpx.Client, make_app: Callable[..., Any]
) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All"])
    tid = app["tenantId"]
    store = hunting_store(emu.state)
    store.run(tid, "DeviceNetworkEvents | count")  # build the tables first
    store.limits = Limits(max_seconds=3)
    running = store.submit(tid, HEAVY)
    _wait_until(lambda: store.busy(tid) > 0, "the query runs")
    store.reset()  # drops the tenant's data: its database must stay open until the query ends
    with pytest.raises(KqlError) as err:
        running.result(timeout=120)
    # the budget stopped it; a database closed under it would fail differently
    assert err.value.message in (TIMEOUT_MESSAGE, RESOURCES_MESSAGE)
    assert store.run(tid, "DeviceInfo | count").rows[0]["Count"] > 0  # a fresh database serves again


def test_rebuild_while_a_query_runs(emu: Any, control: httpx.Client, make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All"])
    tid = app["tenantId"]
    seeded = control.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 5, "alerts": 10})
    assert seeded.status_code == 200, seeded.text
    store = hunting_store(emu.state)
    store.run(tid, "DeviceNetworkEvents | count")
    store.limits = Limits(max_seconds=3)
    running = store.submit(tid, HEAVY)
    _wait_until(lambda: store.busy(tid) > 0, "the query runs")
    control.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 5, "alerts": 12})  # new fingerprint
    store.limits = Limits()
    assert store.run(tid, "AlertInfo | count").rows == [
        {"Count": 12}
    ]  # the new data, while the old query runs
    with pytest.raises(KqlError) as err:
        running.result(timeout=120)
    assert err.value.message in (TIMEOUT_MESSAGE, RESOURCES_MESSAGE)


def test_hostile_queries_get_400_in_the_api_envelope(
    control: httpx.Client, make_app: Callable[..., Any]
) -> None:
    token = make_app(permissions=["AdvancedQuery.Read.All"]).token(MDE_URI)
    for query in (
        "print x = " + "(" * 5000 + "1" + ")" * 5000,
        "print x = " + "dynamic(" + "[" * 3000 + "]" * 3000 + ")",
        "DeviceInfo | where " + " and ".join(["true"] * 20000),
        'DeviceInfo | where DeviceName == "' + "x" * 2_000_000 + '"',
    ):
        # a 20,000-term query takes ~3 s of CPU to parse and run: on a loaded machine more than the
        # fixture's 30 s read timeout (this test is about the answer, not its speed)
        r = control.post(
            "/api/advancedqueries/run",
            json={"Query": query},
            headers={"Authorization": f"Bearer {token}"},
            timeout=180,
        )
        assert r.status_code in (200, 400, 413), r.text[:300]
        if r.status_code != 200:
            error = r.json()["error"]
            assert set(error) == {"code", "message", "target"} and error["message"]


def test_graph_timespan_forms() -> None:
    now = 1_750_000_000_000_000
    day = 86_400_000_000
    start, end = "2025-06-01T00:00:00Z", "2025-06-08T00:00:00Z"
    s_us, e_us = 1_748_736_000_000_000, 1_749_340_800_000_000
    assert parse_timespan("P30D", now) == (now - 30 * day, now)
    assert parse_timespan("PT12H", now) == (now - day // 2, now)
    assert parse_timespan(f"{start}/{end}", now) == (s_us, e_us)
    assert parse_timespan(f"P2D/{end}", now) == (e_us - 2 * day, e_us)
    assert parse_timespan(f"{start}/P2D", now) == (s_us, s_us + 2 * day)
    assert parse_timespan(start, now) == (s_us, now)
    assert parse_timespan(None, now) is None
    from mdekit.emulator.hunting.access import AccessDenied

    for bad in ("yesterday", f"{end}/{start}", "P/P", "P2D/P3D"):
        with pytest.raises(AccessDenied):
            parse_timespan(bad, now)


def test_graph_timespan_interval_narrows_the_data(
    emu: Any, control: httpx.Client, make_app: Callable[..., Any]
) -> None:
    app = make_app(permissions=[{"resource": GRAPH_URI, "role": "ThreatHunting.Read.All"}])
    token = app.token(GRAPH_URI)
    now = emu.state.clock.time()
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    start = time.strftime(fmt, time.gmtime(now - 3 * 86400))
    end = time.strftime(fmt, time.gmtime(now - 1 * 86400))

    def count(timespan: str | None) -> int:
        body = {"Query": "DeviceInfo | summarize n = count(), lo = min(Timestamp), hi = max(Timestamp)"}
        if timespan:
            body["Timespan"] = timespan
        r = _post(control, "/v1.0/security/runHuntingQuery", token, body)
        assert r.status_code == 200, r.text
        row = r.json()["results"][0]
        if timespan and row["n"]:
            assert start <= row["lo"][:19] + "Z" and row["hi"][:19] + "Z" <= end
        return int(row["n"])

    everything, interval, before_end = count(None), count(f"{start}/{end}"), count(f"P2D/{end}")
    assert 0 < interval < everything and before_end == interval
    bad = _post(control, "/v1.0/security/runHuntingQuery", token, {"Query": "DeviceInfo", "Timespan": "soon"})
    assert bad.status_code == 400 and "Invalid Timespan" in bad.json()["error"]["message"]


def test_call_quota_is_shared_by_a_tenants_apps(
    emu: Any, control: httpx.Client, make_app: Callable[..., Any], make_tenant: Callable[..., Any]
) -> None:
    emu.state.defender.throttle.configure(scale=2 / 45)  # 2 calls a minute instead of 45
    first = make_app(permissions=["AdvancedQuery.Read.All"], display_name="first")
    second = make_app(permissions=["AdvancedQuery.Read.All"], display_name="second")
    other_tenant = make_tenant("Fabrikam")["tenantId"]
    third = make_app(permissions=["AdvancedQuery.Read.All"], tenant=other_tenant, display_name="third")
    q = {"Query": "AlertInfo | count"}
    path = "/api/advancedqueries/run"
    assert _post(control, path, first.token(MDE_URI), q).status_code == 200
    assert _post(control, path, second.token(MDE_URI), q).status_code == 200
    refused = _post(control, path, first.token(MDE_URI), q)  # the tenant's third call this minute
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "TooManyRequests"
    assert _post(control, path, second.token(MDE_URI), q).status_code == 429  # the other app too
    assert _post(control, path, third.token(MDE_URI), q).status_code == 200  # another tenant is not affected
