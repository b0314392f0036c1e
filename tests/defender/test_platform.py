"""Throttling, paging over a large tenant, persistence across a restart, and the control plane."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from defender_helpers import Api, mint, register_app
from fastapi.testclient import TestClient

from mdekit.emulator.app import create_app
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState

NO_ACTION = "00000000-0000-4000-8000-000000000000"  # a well-formed action id no action has


def test_throttling_per_operation_with_retry_after(
    api_for: Callable[..., Api], state: EmulatorState, client: TestClient, seeded: str
) -> None:
    api = api_for(seeded, ["Machine.Read.All", "Machine.ReadWrite.All"])
    action = state.defender.actions
    m = api.get("/api/machines?$top=1").json()["value"][0]
    state.clock.advance(1)
    statuses = [api.get(f"/api/machineactions/{NO_ACTION}/getPackageUri").status_code for _ in range(3)]
    assert statuses == [404, 404, 429]  # getPackageUri: 2 calls per minute
    r = api.get(f"/api/machineactions/{NO_ACTION}/getPackageUri")
    assert r.json()["error"]["code"] == "TooManyRequests"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert api.get(f"/api/machines/{m['id']}").status_code == 200  # other operations have their own budget
    other = api_for(seeded, ["Machine.Read.All"], name="another app")
    assert other.get(f"/api/machineactions/{NO_ACTION}/getPackageUri").status_code == 404  # per app
    state.clock.advance(int(r.headers["Retry-After"]))
    assert api.get(f"/api/machineactions/{NO_ACTION}/getPackageUri").status_code == 404
    assert action is state.defender.actions
    # the control plane scales limits or switches them off
    assert client.post("/_emulator/throttling", json={"scale": 2, "clear": True}).json() == {
        "enabled": True,
        "scale": 2.0,
    }
    assert [api.get(f"/api/machineactions/{NO_ACTION}/getPackageUri").status_code for _ in range(5)] == [
        404
    ] * 4 + [429]
    client.post("/_emulator/throttling", json={"enabled": False})
    assert {api.get(f"/api/machineactions/{NO_ACTION}/getPackageUri").status_code for _ in range(5)} == {404}
    assert client.post("/_emulator/throttling", json={"scale": 0}).status_code == 400


def test_default_limit_100_per_minute(api: Api, state: EmulatorState) -> None:
    codes = [api.get("/api/investigations?$top=1").status_code for _ in range(101)]
    assert codes.count(200) == 100 and codes[-1] == 429


def test_paging_beyond_one_page(api_for: Callable[..., Api], state: EmulatorState, tenant: str) -> None:
    seed_tenant(state.defender, tenant, machines=50, alerts=10_500, seed=3)
    api = api_for(tenant, ["Alert.Read.All"])
    first = api.get("/api/alerts?$filter=severity ne 'UnSpecified'").json()
    assert len(first["value"]) == 10_000
    link = first["@odata.nextLink"]
    assert link.startswith("https://api.securitycenter.microsoft.com/api/alerts?")
    assert "$skip=10000" in link and "%24filter" not in link and "$filter=" in link
    second = api.get(link.replace("https://api.securitycenter.microsoft.com", "")).json()
    assert len(second["value"]) == 500 and "@odata.nextLink" not in second
    ids = {a["id"] for a in first["value"]} | {a["id"] for a in second["value"]}
    assert len(ids) == 10_500
    with_top = api.get("/api/alerts?$top=10000").json()
    assert len(with_top["value"]) == 10_000 and "@odata.nextLink" not in with_top
    assert len(api.get("/api/alerts?$top=10&$skip=10495").json()["value"]) == 5


def test_data_persists_across_restart(tmp_path: Path) -> None:
    path = tmp_path / "emulator.db"
    state = EmulatorState.open(path)
    tid = state.directory.create_tenant("Persist").id
    seed_tenant(state.defender, tid, machines=5, alerts=20, seed=9)
    app_id = register_app(state, tid, ["Machine.Read.All", "Machine.Isolate", "Ti.ReadWrite"])
    with TestClient(create_app(state), base_url="https://api.securitycenter.microsoft.com") as c:
        h = {
            "Authorization": "Bearer "
            + mint(state, tid, ["Machine.Read.All", "Machine.Isolate", "Ti.ReadWrite"], app_id=app_id)
        }
        m = c.get("/api/machines?$top=1", headers=h).json()["value"][0]
        action = c.post(f"/api/machines/{m['id']}/isolate", json={"Comment": "x"}, headers=h).json()
        c.post(
            "/api/indicators",
            headers=h,
            json={
                "indicatorValue": "a" * 40,
                "indicatorType": "FileSha1",
                "action": "Block",
                "title": "t",
                "description": "d",
            },
        )
        before = c.get("/api/machines", headers=h).json()["value"]
    state.save_clock()
    state.close()
    reopened = EmulatorState.open(path)
    with TestClient(create_app(reopened), base_url="https://api.securitycenter.microsoft.com") as c:
        assert c.get("/api/machines", headers=h).json()["value"] == before
        assert c.get(f"/api/machineactions/{action['id']}", headers=h).json()["type"] == "Isolate"
        assert len(c.get("/api/indicators", headers=h).json()["value"]) == 1
    assert len(list(reopened.defender.iter_alerts(tid))) == 20
    reopened.close()


def test_seed_is_deterministic_and_hunting_readers(state: EmulatorState) -> None:
    a = state.directory.create_tenant("A").id
    b = state.directory.create_tenant("B").id
    seed_tenant(state.defender, a, machines=10, alerts=30, seed=5)
    seed_tenant(state.defender, b, machines=10, alerts=30, seed=5)
    ma, mb = list(state.defender.iter_machines(a)), list(state.defender.iter_machines(b))
    assert [m["id"] for m in ma] == [m["id"] for m in mb]
    alerts = list(state.defender.iter_alerts(a))
    assert len(alerts) == 30 and all(x["evidence"] for x in alerts)
    assert {x["machineId"] for x in alerts} <= {m["id"] for m in ma}
    users = list(state.defender.iter_users(a))
    assert users and all(set(u["machineIds"]) <= {m["id"] for m in ma} for u in users)
    assert [m["id"] for m in ma] != [m["id"] for m in seed_machines(state, a, seed=6)]


def seed_machines(state: EmulatorState, tenant: str, seed: int) -> list[dict[str, object]]:
    seed_tenant(state.defender, tenant, machines=10, alerts=0, seed=seed)
    return list(state.defender.iter_machines(tenant))


def test_control_plane_seed_and_timing(client: TestClient, state: EmulatorState) -> None:
    tid = state.directory.create_tenant("Seeded").id
    r = client.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 12, "alerts": 40, "seed": 1})
    assert r.status_code == 200
    assert (r.json()["machines"], r.json()["alerts"], r.json()["tenantId"]) == (12, 40, tid)
    assert client.get(f"/_emulator/tenants/{tid}/defender").json()["alerts"] == 40
    assert client.post("/_emulator/tenants/nope/seed", json={}).status_code == 404
    assert client.post(f"/_emulator/tenants/{tid}/seed", json={"machines": -1}).status_code == 400
    assert client.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 0, "alerts": 5}).status_code == 400
    r = client.post(
        "/_emulator/actions",
        json={"type": "Isolate", "pendingSeconds": 1, "runSeconds": 2, "outcome": "Failed"},
    )
    assert r.json()["value"]["Isolate"] == {"pendingSeconds": 1.0, "runSeconds": 2.0, "outcome": "Failed"}
    assert client.post("/_emulator/actions", json={"outcome": "Maybe"}).status_code == 400
    assert client.post("/_emulator/actions", json={"type": "Dance"}).status_code == 400
    assert client.post("/_emulator/actions", json={"pendingSeconds": -1}).status_code == 400
    client.post("/_emulator/reset")
    assert client.get("/_emulator/actions").json()["value"] == {
        "*": {"pendingSeconds": 30.0, "runSeconds": 90.0, "outcome": "Succeeded"}
    }
    assert state.defender.counts(tid)["alerts"] == 0


def test_next_link_carries_a_signed_keyset_cursor(
    api_for: Callable[..., Api], state: EmulatorState, tenant: str
) -> None:
    """Issue 19: in the default order the link keeps ``$skip`` and adds a ``$skiptoken`` the next
    page seeks by; the answer is the page ``$skip`` alone gives, and an edited token is a 400."""
    seed_tenant(state.defender, tenant, machines=50, alerts=10_500, seed=4)
    api = api_for(tenant, ["Alert.Read.All"])
    query = "/api/alerts?$filter=severity ne 'UnSpecified'"
    link = api.get(query).json()["@odata.nextLink"].replace("https://api.securitycenter.microsoft.com", "")
    assert "$skip=10000" in link and "$skiptoken=" in link
    by_cursor = api.get(link).json()
    by_skip = api.get(f"{query}&$skip=10000").json()
    assert by_cursor["value"] == by_skip["value"] and len(by_cursor["value"]) == 500
    token = link.split("$skiptoken=")[1].split("&")[0]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    edited = [
        link.replace(token, forged),  # signature
        link.replace(token, "%C3%A9"),  # not even base64
        link.replace("$skip=10000", "$skip=9000"),  # position
        link.replace("UnSpecified", "Low"),  # another query
    ]
    for bad in edited:
        answer = api.get(bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["code"] == "ODataError"
        assert "$skiptoken" in answer.json()["error"]["message"]
    ordered = api.get("/api/alerts?$orderby=alertCreationTime desc").json()["@odata.nextLink"]
    assert "$skip=10000" in ordered and "$skiptoken" in ordered  # a keyset on the sort keys too
