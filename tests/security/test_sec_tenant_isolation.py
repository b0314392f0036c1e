"""Tenant isolation: randomized cross-tenant reads and writes by id, over the real HTTPS socket.

Two tenants (Contoso = victim, Fabrikam = attacker), each with alerts, machines, machine actions,
indicators and investigations. Fabrikam's fully privileged app then reads and writes Contoso's
objects by id in a random (seeded, reproducible) order. Every such call must fail as "not found"
(or be refused as bad input) and no answer may carry a Contoso object; afterwards Contoso's data
is exactly what it was.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mdekit.catalog import MDE
from mdekit.emulator.server import EmulatorServer

ROLES = [r for r in MDE.roles if r != "SecurityBaselinesAssessment.Read.All"]
CALLS_PER_RUN = 250


class Tenant:
    """One tenant's app, token headers and the ids of its objects."""

    def __init__(self, control: httpx.Client, app: Any, seed: int) -> None:
        self.control, self.app, self.tid = control, app, app["tenantId"]
        self.headers = app.headers()
        r = control.post(
            f"/_emulator/tenants/{self.tid}/seed", json={"machines": 6, "alerts": 20, "seed": seed}
        )
        assert r.status_code == 200, r.text
        self.machines = [m["id"] for m in self.get("/api/machines")["value"]]
        for i, machine in enumerate(self.machines[:3]):
            self.call("POST", f"/api/machines/{machine}/runAntiVirusScan", {"Comment": f"scan {i}"}, 201)
        for i in range(3):
            body = {
                "indicatorValue": f"{self.tid[:8]}-{i}.example.com",
                "indicatorType": "DomainName",
                "action": "Alert",
                "title": f"t{i}",
                "description": "isolation test",
            }
            self.call("POST", "/api/indicators", body, 200)
        self.ids = {
            "alerts": [a["id"] for a in self.get("/api/alerts")["value"]],
            "machines": self.machines,
            "actions": [a["id"] for a in self.get("/api/machineactions")["value"]],
            "indicators": [str(i["id"]) for i in self.get("/api/indicators")["value"]],
            "investigations": [str(i["id"]) for i in self.get("/api/investigations")["value"]],
        }

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> httpx.Response:
        r = self.control.request(method, path, headers=self.headers, json=body)
        assert r.status_code < 500, r.text
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    def get(self, path: str) -> Any:
        return self.call("GET", path, expect=200).json()

    def snapshot(self) -> dict[str, Any]:
        """Everything the tenant can list (machine actions by id and status)."""
        return {
            kind: self.get(f"/api/{path}")["value"]
            for kind, path in (
                ("alerts", "alerts"),
                ("machines", "machines"),
                ("actions", "machineactions"),
                ("indicators", "indicators"),
                ("investigations", "investigations"),
            )
        }


READS: dict[str, list[str]] = {
    "alerts": [
        "/api/alerts/{id}",
        "/api/alerts/{id}/files",
        "/api/alerts/{id}/ips",
        "/api/alerts/{id}/domains",
        "/api/alerts/{id}/machine",
        "/api/alerts/{id}/user",
    ],
    "machines": ["/api/machines/{id}", "/api/machines/{id}/logonusers", "/api/machines/{id}/alerts"],
    "actions": ["/api/machineactions/{id}", "/api/machineactions/{id}/getPackageUri"],
    "investigations": ["/api/investigations/{id}"],
    "indicators": [],
}
WRITES: dict[str, list[tuple[str, str, Any]]] = {
    "alerts": [("PATCH", "/api/alerts/{id}", {"status": "Resolved", "assignedTo": "mallory@fabrikam.com"})],
    "machines": [
        ("POST", "/api/machines/{id}/isolate", {"Comment": "pwn", "IsolationType": "Full"}),
        ("POST", "/api/machines/{id}/offboard", {"Comment": "pwn"}),
        ("POST", "/api/machines/{id}/tags", {"Value": "pwned", "Action": "Add"}),
        ("PATCH", "/api/machines/{id}", {"deviceValue": "Low"}),
        ("POST", "/api/machines/{id}/setDeviceValue", {"DeviceValue": "Low"}),
    ],
    "actions": [("POST", "/api/machineactions/{id}/cancel", {"Comment": "pwn"})],
    "indicators": [("DELETE", "/api/indicators/{id}", None)],
    "investigations": [],
}
BULK: list[Callable[[dict[str, list[str]]], tuple[str, str, Any]]] = [
    lambda ids: ("POST", "/api/alerts/batchUpdate", {"alertIds": ids["alerts"][:5], "status": "Resolved"}),
    lambda ids: (
        "POST",
        "/api/machines/AddOrRemoveTagForMultipleMachines",
        {"Value": "pwned", "Action": "Add", "MachineIds": ids["machines"][:3]},
    ),
    lambda ids: ("POST", "/api/indicators/BatchDelete", {"IndicatorIds": ids["indicators"]}),
]


def _leaks(victim: Tenant, attacker: Tenant, response: httpx.Response, asked: Any = "") -> list[str]:
    """Victim-only ids found anywhere in an answer to the attacker (bar those it named in the request)."""
    own = {i for ids in attacker.ids.values() for i in ids} | set(json.dumps(asked).split('"'))
    text = response.text
    return [i for ids in victim.ids.values() for i in ids if i not in own and len(i) > 6 and i in text]


@pytest.fixture
def tenants(
    emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any], make_tenant: Callable[..., Any]
) -> tuple[Tenant, Tenant]:
    control.post("/_emulator/throttling", json={"enabled": False})
    emu.state.clock.freeze()  # machine actions must not progress between the two snapshots
    victim = Tenant(control, make_app(permissions=ROLES), seed=1)
    fabrikam = make_tenant("Fabrikam")["tenantId"]
    attacker = Tenant(control, make_app(permissions=ROLES, tenant=fabrikam), seed=2)
    return victim, attacker


def _expect_refused(
    victim: Tenant, attacker: Tenant, response: httpx.Response, what: str, asked: str
) -> None:
    assert response.status_code in (400, 404), f"{what}: {response.status_code} {response.text[:300]}"
    assert set(response.json()) == {"error"}, what
    assert not _leaks(victim, attacker, response, asked), what


@pytest.mark.parametrize(
    ("seed", "calls"),
    [(11, CALLS_PER_RUN), *(pytest.param(s, 2000, marks=pytest.mark.slow) for s in (21, 22, 23))],
)
def test_randomized_cross_tenant_reads_and_writes(
    tenants: tuple[Tenant, Tenant], seed: int, calls: int
) -> None:
    victim, attacker = tenants
    before = victim.snapshot()
    assert all(victim.ids[k] for k in ("alerts", "machines", "actions", "indicators")), victim.ids
    rng = random.Random(seed)
    # Per-tenant numbering (investigations start at 5000 in every tenant) gives both tenants the
    # same ids; those are the attacker's own objects (checked below), so the random run aims at the rest.
    targets = {k: sorted(set(v) - set(attacker.ids[k])) for k, v in victim.ids.items()}
    kinds = [k for k in targets if targets[k] and (READS[k] or WRITES[k])]
    assert {"alerts", "machines", "actions", "indicators"} <= set(kinds), targets
    for _ in range(calls):
        kind = rng.choice(kinds)
        target = rng.choice(targets[kind])
        options = [("GET", p, None) for p in READS[kind]] + WRITES[kind]
        method, template, body = rng.choice(options)
        path = template.format(id=target)
        r = attacker.call(method, path, body)
        _expect_refused(victim, attacker, r, f"{method} {path}", target)
    for bulk in BULK:
        method, path, body = bulk(victim.ids)
        r = attacker.call(method, path, body)
        assert r.status_code in (200, 204, 400, 404), r.text
        assert not _leaks(victim, attacker, r, body), path
    assert victim.snapshot() == before


def test_shared_numeric_ids_answer_with_own_objects(tenants: tuple[Tenant, Tenant]) -> None:
    """Investigation 5000 exists in both tenants: each tenant gets its own."""
    victim, attacker = tenants
    mine = {str(i["id"]): i for i in attacker.get("/api/investigations")["value"]}
    shared = set(mine) & set(victim.ids["investigations"])
    for inv_id in shared:
        got = attacker.get(f"/api/investigations/{inv_id}")
        got.pop("@odata.context", None)
        assert got == mine[inv_id]
        assert got["machineId"] in attacker.machines and got["machineId"] not in victim.machines


def test_lists_and_filters_never_cross(tenants: tuple[Tenant, Tenant]) -> None:
    """Listing with the victim's ids in ``$filter`` finds nothing; plain lists hold only own ids."""
    victim, attacker = tenants
    for kind, path in (("alerts", "alerts"), ("machines", "machines"), ("actions", "machineactions")):
        for target in victim.ids[kind][:3]:
            params = {"$filter": f"id eq '{target}'"}
            r = attacker.control.get(f"/api/{path}", params=params, headers=attacker.headers)
            assert r.status_code == 200, r.text
            assert r.json()["value"] == [], (kind, target)
        listed = {str(o["id"]) for o in attacker.get(f"/api/{path}")["value"]}
        assert listed == set(attacker.ids[kind])
        assert not listed & (set(victim.ids[kind]) - set(attacker.ids[kind]))


def test_same_ids_in_two_tenants_stay_separate(
    emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any], make_tenant: Callable[..., Any]
) -> None:
    """Both tenants seeded alike (the same machine ids): one tenant's writes never touch the other."""
    control.post("/_emulator/throttling", json={"enabled": False})
    emu.state.clock.freeze()
    a = Tenant(control, make_app(permissions=ROLES), seed=5)
    b = Tenant(control, make_app(permissions=ROLES, tenant=make_tenant("Fabrikam")["tenantId"]), seed=5)
    shared = sorted(set(a.machines) & set(b.machines))
    assert shared, "the same seed gives the same machine ids"
    before = json.dumps(a.snapshot(), sort_keys=True)
    machine = shared[0]
    b.call("POST", f"/api/machines/{machine}/tags", {"Value": "fabrikam-only", "Action": "Add"}, 200)
    b.call("PATCH", f"/api/alerts/{b.ids['alerts'][0]}", {"status": "Resolved"}, 200)
    b.call("POST", f"/api/machines/{machine}/isolate", {"Comment": "b", "IsolationType": "Full"}, 201)
    assert json.dumps(a.snapshot(), sort_keys=True) == before
    assert "fabrikam-only" in b.get(f"/api/machines/{machine}")["machineTags"]
