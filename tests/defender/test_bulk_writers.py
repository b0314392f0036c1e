"""The stores' bulk writers (seeding, benchmarks: ``IndicatorStore.insert_many``,
``ActionStore.insert_finished``) store what the API's own writes store: the list and item answers
of a bulk-written record equal those of one made through the API, but for its own values."""

from __future__ import annotations

from collections.abc import Callable

from defender_helpers import Api, mint, register_app

from mdekit.emulator.state import EmulatorState

_OWN = {"id", "indicatorValue", "creationTimeDateTimeUtc", "lastUpdateTime"}


def test_bulk_indicators_answer_as_posted_ones(
    api_for: Callable[..., Api], state: EmulatorState, client: object, tenant: str
) -> None:
    app_id = register_app(state, tenant, ["Ti.ReadWrite.All"], name="bulk app")
    api = Api(client, mint(state, tenant, ["Ti.ReadWrite.All"], app_id=app_id))  # type: ignore[arg-type]
    body = {
        "indicatorType": "DomainName",
        "action": "Block",
        "title": "t",
        "description": "d",
        "severity": "High",
        "application": "bulk",
    }
    posted = api.post("/api/indicators", {**body, "indicatorValue": "posted.example"})
    assert posted.status_code == 200, posted.text
    with state.db.tx() as c:
        written = state.defender.indicators.insert_many(
            c, tenant, [{**body, "indicatorValue": f"bulk{i}.example"} for i in range(3)], app_id, "bulk app"
        )
    assert written == 3
    listed = api.get("/api/indicators").json()["value"]
    assert [i["indicatorValue"] for i in listed] == [
        "posted.example",
        *(f"bulk{i}.example" for i in range(3)),
    ]
    first, bulk = listed[0], listed[1:]
    assert len({i["id"] for i in listed}) == 4
    for item in bulk:
        assert list(item) == list(first)
        assert {k: v for k, v in item.items() if k not in _OWN} == {
            k: v for k, v in first.items() if k not in _OWN
        }
        found = api.get(f"/api/indicators?$filter=indicatorValue eq '{item['indicatorValue']}'")
        assert found.json()["value"] == [item]  # the filter columns were written too
    # the (type, value) uniqueness holds for bulk rows too: the API updates them in place
    again = api.post("/api/indicators", {**body, "indicatorValue": "bulk0.example", "action": "Warn"})
    assert again.json()["id"] == bulk[0]["id"] and again.json()["action"] == "Warn"


def test_bulk_finished_actions_answer_as_finished_api_ones(
    api: Api, state: EmulatorState, seeded: str
) -> None:
    state.defender.actions.timing.set(None, 0, 0, "Succeeded")
    machine = api.get("/api/machines?$top=1").json()["value"][0]
    made = api.post(f"/api/machines/{machine['id']}/runAntiVirusScan", {"Comment": "c", "ScanType": "Quick"})
    assert made.status_code == 201, made.text
    done = api.get(f"/api/machineactions/{made.json()['id']}").json()
    assert done["status"] == "Succeeded"
    stored = {k: v for k, v in done.items() if k != "@odata.context"}
    copies = [{**stored, "id": f"00000000-0000-4000-8000-00000000000{i}"} for i in range(2)]
    pending = {**stored, "id": "00000000-0000-4000-8000-0000000000ff", "status": "Pending"}
    with state.db.tx() as c:
        written = state.defender.actions.insert_finished(c, seeded, "app", [*copies, pending])
    assert written == 2  # only actions in a final status are written
    for copy in copies:
        got = api.get(f"/api/machineactions/{copy['id']}")
        assert got.status_code == 200
        assert {k: v for k, v in got.json().items() if k != "@odata.context"} == copy
    assert api.get(f"/api/machineactions/{pending['id']}").status_code == 404
    listed = api.get(f"/api/machineactions?$filter=machineId eq '{machine['id']}'").json()["value"]
    assert sorted(a["id"] for a in listed) == sorted([done["id"], *(c["id"] for c in copies)])
    # finished, so the machine takes a new scan at once (nothing bulk-written is left open)
    again = api.post(f"/api/machines/{machine['id']}/runAntiVirusScan", {"Comment": "c", "ScanType": "Quick"})
    assert again.status_code == 201
