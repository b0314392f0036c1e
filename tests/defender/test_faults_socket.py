"""Fault plans, and a key subset of the API over the real HTTPS socket with real tokens."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from defender_helpers import Api
from fastapi.testclient import TestClient

from mdekit.emulator.faults import FaultDropped
from mdekit.emulator.server import EmulatorServer


def test_fault_plan_nth_every_count_and_listing(client: TestClient, api: Api) -> None:
    r = client.post(
        "/_emulator/faults",
        json={"method": "GET", "path": "/api/machines*", "status": 503, "retryAfter": 7, "nth": 2},
    )
    assert r.status_code == 201
    plan_id = r.json()["id"]
    codes = [api.get("/api/machines?$top=1").status_code for _ in range(3)]
    assert codes == [200, 503, 200]
    faulted = client.post(
        "/_emulator/faults",
        json={"pathRegex": r"^/api/alerts$", "status": 429, "every": 2, "retryAfter": 3, "count": 2},
    )
    codes = [api.get("/api/alerts?$top=1").status_code for _ in range(6)]
    assert codes == [200, 429, 200, 429, 200, 200]
    plans = {p["id"]: p for p in client.get("/_emulator/faults").json()["value"]}
    assert plans[faulted.json()["id"]]["fired"] == 2 and plans[plan_id]["matched"] == 3
    assert client.delete(f"/_emulator/faults/{plan_id}").status_code == 204
    assert client.delete(f"/_emulator/faults/{plan_id}").status_code == 404
    assert client.delete("/_emulator/faults").status_code == 204
    assert client.get("/_emulator/faults").json()["value"] == []


def test_fault_answer_shapes_and_filters(
    client: TestClient, api: Api, api_for: Callable[..., Api], seeded: str
) -> None:
    other = api_for(seeded, ["Alert.Read.All"], name="other")
    mine_app = api.headers["Authorization"]
    assert mine_app
    client.post(
        "/_emulator/faults",
        json={"path": "/api/*", "status": 429, "retryAfter": 5, "appId": _appid(other), "tenantId": seeded},
    )
    r = other.get("/api/alerts")
    assert r.status_code == 429 and r.headers["retry-after"] == "5"
    assert (
        r.json()["error"]["code"] == "TooManyRequests"
        and r.json()["error"]["target"] == r.headers["request-id"]
    )
    assert api.get("/api/alerts?$top=1").status_code == 200
    client.delete("/_emulator/faults")
    client.post("/_emulator/faults", json={"path": "/*/oauth2/*", "status": 500})
    r = client.post(f"/{seeded}/oauth2/v2.0/token", data={"grant_type": "client_credentials"})
    assert r.status_code == 500 and r.json()["error"] == "server_error"


def _appid(api: Api) -> str:
    import jwt

    return str(jwt.decode(api.headers["Authorization"][7:], options={"verify_signature": False})["appid"])


def test_probability_is_seedable_and_bad_plans_rejected(client: TestClient, api: Api) -> None:
    def run() -> list[int]:
        client.delete("/_emulator/faults")
        client.post(
            "/_emulator/faults",
            json={"path": "/api/investigations", "status": 500, "probability": 0.5, "seed": 11},
        )
        return [api.get("/api/investigations").status_code for _ in range(12)]

    first = run()
    assert first == run() and {200, 500} <= set(first)
    for bad in (
        {"status": 500},
        {"path": "/x"},
        {"path": "/x", "status": 99},
        {"path": "/x", "status": 500, "probability": 2},
        {"path": "/x", "drop": "yes"},
        {"pathRegex": "(", "status": 500},
        {"path": "/x", "status": 500, "colour": "red"},
        {"path": "/x", "status": 500, "nth": 0},
        {"path": "/x", "dropAfterCommit": "yes"},
        {"path": "/x", "dropAfterCommit": True, "status": 500},
        {"path": "/x", "dropAfterCommit": True, "drop": True},
    ):
        r = client.post("/_emulator/faults", json=bad)
        assert r.status_code == 400, bad


def test_drop_in_process_raises(client: TestClient, api: Api) -> None:
    client.post("/_emulator/faults", json={"path": "/api/alerts", "drop": True})
    with pytest.raises(FaultDropped):
        api.get("/api/alerts")


def test_drop_after_commit_in_process_commits_then_raises(client: TestClient, api: Api) -> None:
    alert = api.get("/api/alerts?$top=1").json()["value"][0]
    plan = {"method": "PATCH", "path": "/api/alerts/*", "dropAfterCommit": True}
    assert client.post("/_emulator/faults", json=plan).status_code == 201
    with pytest.raises(FaultDropped):
        api.patch(f"/api/alerts/{alert['id']}", json={"comment": "handled, answer lost"})
    client.delete("/_emulator/faults")
    comments = api.get(f"/api/alerts/{alert['id']}").json()["comments"]
    assert [c["comment"] for c in comments].count("handled, answer lost") == 1


# ---- over the real HTTPS socket -------------------------------------------------------------------------


@pytest.fixture
def https_app(make_app: Callable[..., Any], control: httpx.Client) -> Any:
    app = make_app(permissions=["Alert.ReadWrite.All", "Machine.Read.All", "Machine.Isolate"])
    r = control.post(
        f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 10, "alerts": 30, "seed": 2}
    )
    assert r.status_code == 200, r.text
    return app


@pytest.mark.socket
def test_api_over_https_with_real_tokens(https_app: Any, emu: EmulatorServer) -> None:
    headers = https_app.headers()
    with httpx.Client(
        base_url=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers=headers,
        timeout=30,
    ) as c:
        body = c.get("/api/machines?$top=2").json()
        assert body["@odata.context"] == f"https://{emu.url.split('://')[1]}/api/$metadata#Machines"
        m = body["value"][0]
        r = c.post(f"/api/machines/{m['id']}/isolate", json={"Comment": "socket"})
        assert r.status_code == 201 and r.json()["requestor"] == "mdekit test app"
        assert c.post(f"/api/machines/{m['id']}/isolate", json={"Comment": "dup"}).status_code == 400
        alert = c.get("/api/alerts?$top=1").json()["value"][0]
        assert (
            c.patch(f"/api/alerts/{alert['id']}", json={"status": "InProgress"}).json()["status"]
            == "InProgress"
        )
        r = c.get("/api/indicators")
        assert r.status_code == 403 and "Ti.ReadWrite" in r.json()["error"]["message"]
    journal = httpx.get(
        f"{emu.url}/_emulator/requests", verify=ssl.create_default_context(cafile=str(emu.ca_cert))
    ).json()["value"]
    entry = next(e for e in journal if e["path"] == "/api/machines")
    assert entry["tenantId"] == https_app["tenantId"] and entry["appId"] == https_app["appId"]


@pytest.mark.socket
def test_dropped_connection_over_socket(https_app: Any, emu: EmulatorServer, control: httpx.Client) -> None:
    control.post("/_emulator/faults", json={"method": "GET", "path": "/api/alerts", "drop": True, "count": 1})
    headers = https_app.headers()
    with httpx.Client(
        base_url=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers=headers,
        timeout=10,
    ) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/api/alerts")
        assert c.get("/api/alerts").status_code == 200  # count: 1 -> the next request is served


@pytest.mark.socket
def test_delay_fault_over_socket(https_app: Any, emu: EmulatorServer, control: httpx.Client) -> None:
    control.post("/_emulator/faults", json={"path": "/api/machines", "delaySeconds": 0.5, "count": 1})
    with httpx.Client(
        base_url=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers=https_app.headers(),
        timeout=10,
    ) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/api/machines", timeout=0.2)
        assert c.get("/api/machines").status_code == 200


@pytest.mark.socket
def test_drop_after_commit_over_socket(https_app: Any, emu: EmulatorServer, control: httpx.Client) -> None:
    """The PATCH is handled and committed, then the connection closes before any byte of the answer."""
    plan = {"method": "PATCH", "path": "/api/alerts/*", "dropAfterCommit": True, "count": 1}
    assert control.post("/_emulator/faults", json=plan).status_code == 201
    with httpx.Client(
        base_url=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers=https_app.headers(),
        timeout=10,
    ) as c:
        alert = c.get("/api/alerts?$top=1").json()["value"][0]
        with pytest.raises(httpx.RemoteProtocolError):
            c.patch(f"/api/alerts/{alert['id']}", json={"comment": "answer lost"})
        comments = c.get(f"/api/alerts/{alert['id']}").json()["comments"]
    assert [x["comment"] for x in comments] == ["answer lost"]
    patches = [e for e in control.get("/_emulator/requests").json()["value"] if e["method"] == "PATCH"]
    assert [e["status"] for e in patches] == [0]  # journalled as unanswered: no answer left the server
