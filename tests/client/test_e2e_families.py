"""Every API family end to end against the emulator (in-process; key paths also over HTTPS sockets).

Seeded once for the module. A missing route fails here (it is a regression, never a skip).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mdekit.client.actions import ActionTimeoutError
from mdekit.errors import ActionAlreadyPendingError, NotFoundError, PermissionMissingError
from mdekit.models import Alert, Machine, MachineAction, User


@pytest.fixture(scope="module")
def seeded(env: Any, full_app: dict[str, Any]) -> dict[str, Any]:
    env.seed({"machines": 40, "alerts": 300})
    return full_app


@pytest.mark.parametrize("socket", [False, True], ids=["in-process", "https-socket"])
def test_alerts_family(env: Any, seeded: dict[str, Any], socket: bool) -> None:
    with env.client(seeded, socket=socket) as c:
        alerts = c.alerts.list(limit=50).all()
        assert len(alerts) == 50 and all(isinstance(a, Alert) for a in alerts)
        high = c.alerts.list(severity="High").all()
        assert high and {a.severity for a in high} == {"High"}
        first = alerts[0]
        got = c.alerts.get(first.id)
        assert got.id == first.id and got.alert_creation_time is not None
        updated = c.alerts.update(first.id, status="InProgress", assigned_to="secops@contoso.com")
        assert updated.status == "InProgress" and updated.assigned_to == "secops@contoso.com"
        c.alerts.batch_update(
            [a.id for a in alerts[1:3]],
            status="Resolved",
            classification="FalsePositive",
            determination="Other",
        )
        assert c.alerts.get(alerts[1].id).status == "Resolved"
        assert isinstance(c.alerts.evidence(first.id), list)
        machine = c.alerts.machine(first.id)
        assert machine.id == first.machine_id
        c.alerts.ips(first.id), c.alerts.domains(first.id), c.alerts.files(first.id).all()
        with pytest.raises(NotFoundError):
            c.alerts.get("da000000000000000000_0")


def test_machines_family(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as c:
        machines = c.machines.list().all()
        assert len(machines) == 40 and all(isinstance(m, Machine) for m in machines)
        m = machines[0]
        assert c.machines.get(m.id).id == m.id
        if m.computer_dns_name:
            assert c.machines.get(m.computer_dns_name).id == m.id  # by computer name
        tagged = c.machines.add_tag(m.id, "mdekit-test")
        assert "mdekit-test" in tagged.machine_tags
        assert m.id in {x.id for x in c.machines.find_by_tag("mdekit-test")}
        assert "mdekit-test" not in c.machines.remove_tag(m.id, "mdekit-test").machine_tags
        assert c.machines.set_device_value(m.id, "High").device_value == "High"
        assert all(isinstance(u, User) for u in c.machines.logon_users(m.id))
        assert {a.machine_id for a in c.machines.alerts(m.id)} <= {m.id}
        if m.last_ip_address:
            found = c.machines.find_by_ip(m.last_ip_address, env.state.clock.now())
            assert isinstance(found, list)


def test_actions_lifecycle_and_pending_reuse(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as c:
        # selective isolation: Windows 10/11 only (the documented platform rule)
        m = next(x for x in c.machines.list(limit=50).all() if x.os_platform in ("Windows10", "Windows11"))
        action = c.actions.isolate(m.id, "contain", isolation_type="Selective")
        assert isinstance(action, MachineAction) and action.type == "Isolate" and not action.reused
        again = c.actions.isolate(m.id, "contain again")
        assert again.id == action.id and again.reused  # the pending one, not a failure
        done = action.wait(timeout=3600, interval=30)  # sleeps move the virtual clock
        assert done.is_terminal
        assert c.actions.get(action.id).status == done.status
        assert action.id in {a.id for a in c.actions.list(machine_id=m.id)}
        listed = next(a for a in c.actions.list(machine_id=m.id) if a.id == action.id)
        assert listed.refresh().status == done.status  # a listed action is bound to its client too
    with env.client(seeded, reuse_pending=False) as strict:
        scan = strict.actions.scan(m.id, "scan")
        with pytest.raises(ActionAlreadyPendingError):
            strict.actions.scan(m.id, "scan twice")
        cancelled = strict.actions.cancel(scan.id, "not needed")
        assert cancelled.status in ("Cancelled", "Pending", "InProgress")


def test_dropped_action_post_checks_pending_before_replaying(env: Any, seeded: dict[str, Any]) -> None:
    env.faults({"method": "POST", "path": "/api/machines/*/restrictCodeExecution", "drop": True, "nth": 1})
    try:
        env.control.delete("/_emulator/requests")
        with env.client(seeded, socket=True) as c:
            m = c.machines.list(limit=12).all()[11]
            action = c.actions.restrict(m.id, "contain")
        log = [(e["method"], e["path"]) for e in env.control.get("/_emulator/requests").json()["value"]]
    finally:
        env.control.delete("/_emulator/faults")
    posts = [i for i, (meth, p) in enumerate(log) if meth == "POST" and p.endswith("restrictCodeExecution")]
    assert len(posts) == 2
    # it looked for a pending action before replaying (the journal may log the dropped POST late)
    assert ("GET", "/api/machineactions") in log
    assert action.type == "RestrictCodeExecution"


def test_action_wait_timeout(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as c:
        m = c.machines.list(limit=10).all()[5]
        action = c.actions.collect(m.id, "package")
        if not action.is_terminal:
            with pytest.raises(ActionTimeoutError) as info:
                c.actions.wait(action, timeout=0.5, interval=1)
            assert info.value.action.id == action.id


def test_indicators_family(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as c:
        ind = c.indicators.submit(
            {
                "indicator_value": "evil.example.com",
                "indicator_type": "DomainName",
                "action": "Block",
                "title": "t",
                "description": "d",
                "severity": "High",
            }
        )
        assert ind.id and ind.indicator_value == "evil.example.com"
        rows = c.indicators.import_(
            [
                {
                    "indicatorValue": f"10.0.0.{i}",
                    "indicatorType": "IpAddress",
                    "action": "Audit",
                    "title": "t",
                    "description": "d",
                    "generateAlert": True,
                }
                for i in range(1, 4)
            ]
        )
        assert len(rows) == 3 and not any(r.is_failed for r in rows)
        listed = c.indicators.list().all()
        assert {"evil.example.com", "10.0.0.1"} <= {i.indicator_value for i in listed}
        c.indicators.delete(str(ind.id))
        c.indicators.batch_delete([r.id for r in rows if r.id])
        assert c.indicators.list().all() == []


def test_entities_and_investigations(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as c:
        alert = c.alerts.list(limit=1).all()[0]
        machine = c.alerts.machine(alert.id)
        ip = machine.last_ip_address or "10.1.1.1"
        assert c.ips.stats(ip).organization_prevalence is not None or True
        assert all(isinstance(a, Alert) for a in c.ips.alerts(ip))
        assert all(isinstance(a, Alert) for a in c.domains.alerts("example.com"))
        assert c.users.alerts("nobody").all() == [] and c.users.alerts("nobody").count() == 0
        invs = c.investigations.list(limit=5).all()
        if invs:
            assert c.investigations.get(invs[0].id).id == invs[0].id


def test_preflight_blocks_before_sending(env: Any, seeded: dict[str, Any]) -> None:
    reader = env.app(["Machine.Read.All"])
    env.control.delete("/_emulator/requests")
    with env.client(reader) as c:
        m = c.machines.list(limit=1).all()[0]
        with pytest.raises(PermissionMissingError) as info:
            c.actions.isolate(m.id, "no role")
        assert "Machine.Isolate" in str(info.value) and "Grant admin consent" in str(info.value)
        assert not info.value.sent
    paths = [e["path"] for e in env.control.get("/_emulator/requests").json()["value"]]
    assert not any(p.endswith("/isolate") for p in paths)  # never sent
    with env.client(reader, preflight=False) as c2, pytest.raises(PermissionMissingError) as info2:
        c2.actions.isolate(m.id, "no role")
    assert info2.value.sent  # the server's 403 "Missing application roles", translated


def test_token_refresh_across_expiry_and_401(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as c:  # client on the virtual clock: proactive refresh
        c.alerts.list(limit=1).all()
        env.advance(2 * 3600)
        c.alerts.list(limit=1).all()
        assert c.token_requests == 2
    # client on real time, emulator two hours ahead: the API says 401, the client refreshes once
    with env.client(seeded, clock=None) as c:
        c.alerts.list(limit=1).all()
        env.advance(2 * 3600)
        c.alerts.list(limit=1).all()
        assert c.token_requests == 2


def test_async_two_tenants_concurrently(env: Any, seeded: dict[str, Any]) -> None:
    other = env._post("/_emulator/tenants", {"displayName": "Fabrikam"})["tenantId"]
    env.seed({"machines": 7, "alerts": 30}, tenant=other)
    app2 = env.app(None, tenant=other)

    async def count(app: dict[str, Any]) -> tuple[int, int]:
        async with env.aclient(app) as c:
            machines, alerts = await asyncio.gather(c.machines.list().all(), c.alerts.list().all())
            return len(machines), len(alerts)

    async def both() -> list[tuple[int, int]]:
        return list(await asyncio.gather(count(seeded), count(app2)))

    first, second = asyncio.run(both())
    assert second == (7, 30) and first[0] == 40
