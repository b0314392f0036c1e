"""The emulator's activity generator: deterministic from its seed, however the clock moves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from mdekit.emulator.server import EmulatorServer

RATES = {"alerts": 30, "alertUpdates": 20, "machines": 3, "machinesStale": 2, "machineCheckins": 30}


def _snapshot(emu: EmulatorServer, tid: str) -> dict[str, Any]:
    d = emu.state.defender
    return {
        "alerts": sorted(
            (a["id"], a["status"], a["lastUpdateTime"], a["incidentId"]) for a in d.iter_alerts(tid)
        ),
        "machines": sorted((m["id"], m["healthStatus"], m["lastSeen"]) for m in d.iter_machines(tid)),
        "incidents": [tuple(r) for r in emu.state.db.query(
            "SELECT id, severity, last_update_time FROM def_incidents WHERE tenant = tk(?) ORDER BY id",
            (tid,))],
    }  # fmt: skip


def _run(emu: EmulatorServer, control: httpx.Client, steps: list[float]) -> dict[str, Any]:
    emu.state.reset()
    emu.state.clock.freeze()
    emu.state.clock.set(1_790_000_000.0)
    tid = control.post("/_emulator/tenants", json={"displayName": "Fabrikam"}).json()["tenantId"]
    assert (
        control.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 10, "alerts": 50}).status_code == 200
    )
    r = control.post("/_emulator/activity", json={"seed": 42, "rates": RATES, "incidentGrowth": 0.5})
    assert r.status_code == 200, r.text
    for step in steps:
        assert control.post("/_emulator/clock", json={"advanceSeconds": step}).status_code == 200
    return _snapshot(emu, tid)


def test_same_seed_same_world_in_one_step_or_many(emu: EmulatorServer, control: httpx.Client) -> None:
    one = _run(emu, control, [12 * 3600])
    many = _run(emu, control, [3600] * 6 + [1800] * 12)
    assert one == many
    assert len(one["alerts"]) > 300 and len(one["machines"]) > 30
    statuses = {s for _, s, _, _ in one["alerts"]}
    assert {"New", "InProgress", "Resolved"} <= statuses
    assert any(h == "Inactive" for _, h, _ in one["machines"])
    # incidents grew: some incidents hold more alerts than any seeded one at creation time
    per_incident: dict[int, int] = {}
    for *_, iid in one["alerts"]:
        per_incident[iid] = per_incident.get(iid, 0) + 1
    assert max(per_incident.values()) > 5
    counters = control.get("/_emulator/activity").json()
    assert counters["applied"]["alerts"] == len(one["alerts"]) - 50


def test_a_different_seed_gives_different_activity(emu: EmulatorServer, control: httpx.Client) -> None:
    base = _run(emu, control, [3 * 3600])
    control.post("/_emulator/activity", json={"seed": 43, "rates": RATES})
    emu.state.reset()
    other = _run(emu, control, [3 * 3600])
    assert base == other  # same seed again
    emu.state.reset()
    emu.state.clock.set(1_790_000_000.0)
    tid = control.post("/_emulator/tenants", json={"displayName": "F"}).json()["tenantId"]
    control.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 10, "alerts": 50})
    control.post("/_emulator/activity", json={"seed": 43, "rates": RATES, "incidentGrowth": 0.5})
    control.post("/_emulator/clock", json={"advanceSeconds": 3 * 3600})
    assert _snapshot(emu, tid)["alerts"] != base["alerts"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rates": {"alerts": -1}}, "rates.alerts must be a number"),
        ({"rates": {"bogus": 1}}, "unknown rate(s): bogus"),
        ({"seed": "x"}, "seed must be a non-negative integer"),
        ({"incidentGrowth": 2}, "incidentGrowth must be a number from 0 to 1"),
        ({"tenants": ["nope.example"]}, "tenant(s) not in the directory"),
        ({"color": "red"}, "unknown field(s): color"),
    ],
)
def test_bad_plans_are_refused(control: httpx.Client, body: dict[str, Any], message: str) -> None:
    r = control.post("/_emulator/activity", json=body)
    assert r.status_code in (400, 404)
    assert message in r.text


def test_plan_lifecycle(emu: EmulatorServer, control: httpx.Client) -> None:
    assert control.get("/_emulator/activity").status_code == 404
    assert control.post("/_emulator/activity", json={"seed": 1}).status_code == 200
    emu.state.clock.advance(600)  # the clock also runs on its own: apply on demand
    applied = control.post("/_emulator/activity/apply").json()["applied"]
    assert isinstance(applied, dict)
    assert control.delete("/_emulator/activity").status_code == 204
    assert control.get("/_emulator/activity").status_code == 404


def test_a_jump_of_years_applies_at_most_the_last_31_days(emu: EmulatorServer, control: httpx.Client) -> None:
    zero = dict.fromkeys(RATES, 0)
    assert control.post("/_emulator/activity", json={"seed": 1, "rates": zero}).status_code == 200
    r = control.post("/_emulator/clock", json={"advanceSeconds": 3 * 365 * 86400})
    assert r.status_code == 200
    plan = control.get("/_emulator/activity").json()
    applied, now = (datetime.fromisoformat(t[:19]) for t in (plan["appliedThrough"], r.json()["now"]))
    assert abs((now - applied).total_seconds()) < 120  # caught up to the new minute, at once
