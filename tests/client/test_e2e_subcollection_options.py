"""``select=``, ``order_by=`` and ``count()`` on every per-item sub-collection, end to end (issue 12).

``client.machines.alerts(id)``, ``client.files.machines(sha1)``, ``client.software.by_machine(m)``...
are listings like the top-level lists. Each case asserts what a user sees against the emulator: the
count equals the rows listed, the selected keys come in the entity's own key order, and the rows
are ordered both ways. Most run in process; one sync and one async test use the HTTPS socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from mdekit.catalog import MDE
from mdekit.client.base import Pager
from mdekit.errors import BadRequestError, ConfigurationError
from mdekit.models import Alert


@pytest.fixture(scope="module")
def app(env: Any) -> dict[str, Any]:
    env.seed({"machines": 12, "alerts": 90, "seed": 4})
    return dict(env.app(list(MDE.roles)))


@pytest.fixture
def client(env: Any, app: dict[str, Any]) -> Any:
    with env.client(app) as c:
        yield c


@pytest.fixture(scope="module")
def ids(env: Any, app: dict[str, Any]) -> dict[str, str]:
    """One key per kind of item whose sub-collections are not empty in the seeded tenant."""
    with env.client(app) as c:
        alerts = c.alerts.list().all()
        by_machine: dict[str, int] = {}
        for a in alerts:
            by_machine[a.machine_id or ""] = by_machine.get(a.machine_id or "", 0) + 1
        machine = max(by_machine, key=lambda m: by_machine[m])
        with_files = next(a for a in alerts if c.alerts.files(a.id).all())
        sha1 = c.alerts.files(with_files.id).all()[0].sha1
        ip = next(i for a in alerts for i in c.alerts.ips(a.id))
        domain = next(d for a in alerts for d in c.alerts.domains(a.id))
        user = next(u.account_name for u in c.machines.logon_users(machine) if u.account_name)
        cve = max(c.vulnerabilities.list().all(), key=lambda v: v.exposed_machines or 0).id
        product = max(c.software.list().all(), key=lambda s: s.exposed_machines or 0).id
        software_recs = [r for r in c.recommendations.list().all() if r.id.startswith("va-_-")]
        rec = max(software_recs, key=lambda r: r.exposed_machines_count or 0).id
        behind = c.vulnerabilities.by_machine_and_software(filter="fixingKbId ne null", limit=1).all()[0]
        task = c.remediation.list(limit=1).all()[0].id
        return {
            "machine": machine, "alert": with_files.id, "sha1": str(sha1), "ip": ip, "domain": domain,
            "user": str(user), "cve": cve, "software": product, "rec": rec,
            "kb_machine": str(behind.machine_id), "task": task,
            "kb_software": f"{behind.product_vendor}-_-{behind.product_name}",
        }  # fmt: skip


#: label -> (family, method, key of ``ids``); every per-item collection the client lists
SUBS: dict[str, tuple[str, str, str]] = {
    "machines.alerts": ("machines", "alerts", "machine"),
    "machines.logon_users": ("machines", "logon_users", "machine"),
    "alerts.files": ("alerts", "files", "alert"),
    "files.alerts": ("files", "alerts", "sha1"),
    "files.machines": ("files", "machines", "sha1"),
    "ips.alerts": ("ips", "alerts", "ip"),
    "domains.alerts": ("domains", "alerts", "domain"),
    "domains.machines": ("domains", "machines", "domain"),
    "users.alerts": ("users", "alerts", "user"),
    "users.machines": ("users", "machines", "user"),
    "vulnerabilities.machines": ("vulnerabilities", "machines", "cve"),
    "vulnerabilities.by_machine": ("vulnerabilities", "by_machine", "machine"),
    "software.vulnerabilities": ("software", "vulnerabilities", "software"),
    "software.machines": ("software", "machines", "software"),
    "software.distributions": ("software", "distributions", "software"),
    "software.by_machine": ("software", "by_machine", "machine"),
    "software.missing_kbs": ("software", "missing_kbs", "kb_software"),
    "software.missing_kbs_by_machine": ("software", "missing_kbs_by_machine", "kb_machine"),
    "recommendations.machines": ("recommendations", "machines", "rec"),
    "recommendations.vulnerabilities": ("recommendations", "vulnerabilities", "rec"),
    "recommendations.by_machine": ("recommendations", "by_machine", "machine"),
    "remediation.machines": ("remediation", "machines", "task"),
}


def _sub(client: Any, ids: dict[str, str], label: str) -> Callable[..., Any]:
    family, method, key = SUBS[label]
    bound = getattr(getattr(client, family), method)
    return lambda **kw: bound(ids[key], **kw)


@pytest.mark.parametrize("label", list(SUBS))
def test_count_equals_the_rows_listed(client: Any, ids: dict[str, str], label: str) -> None:
    lister = _sub(client, ids, label)
    listing = lister()
    assert isinstance(listing, Pager)
    rows = listing.all()
    assert rows, label
    assert lister().count() == len(rows) == len(list(lister()))
    assert lister(limit=1).count() == len(rows)  # limit caps the listing, not the count
    assert len(lister(limit=1).all()) == 1


@pytest.mark.parametrize("label", list(SUBS))
def test_select_returns_the_asked_keys_in_the_entity_order(
    client: Any, ids: dict[str, str], label: str
) -> None:
    lister = _sub(client, ids, label)
    full = lister().all()
    wire = [r.to_wire() for r in full]
    keys = [k for k in wire[0] if not k.startswith("@") and isinstance(wire[0][k], str | int | float)]
    assert len(keys) >= 2, label
    wanted = [keys[-1], keys[0]]  # asked in reverse order
    picked = lister(select=wanted).all()
    assert len(picked) == len(full)
    for record, whole in zip(picked, wire, strict=True):
        assert isinstance(record, type(full[0]))
        got = record.model_dump(by_alias=True, exclude_unset=True, mode="json")
        assert list(got) == sorted(wanted, key=keys.index)
        assert got == {k: whole[k] for k in got}


@pytest.mark.parametrize(
    ("label", "prop", "field"),
    [
        ("machines.alerts", "alertCreationTime", "alert_creation_time"),
        ("files.machines", "computerDnsName", "computer_dns_name"),
        ("users.alerts", "alertCreationTime", "alert_creation_time"),
        ("vulnerabilities.by_machine", "cvssV3", "cvss_v3"),
        ("software.by_machine", "name", "name"),
        ("software.machines", "computerDnsName", "computer_dns_name"),
        ("recommendations.by_machine", "severityScore", "severity_score"),
    ],
)
def test_order_by_both_ways(client: Any, ids: dict[str, str], label: str, prop: str, field: str) -> None:
    lister = _sub(client, ids, label)
    down = [getattr(r, field) for r in lister(order_by=f"{prop} desc").all()]
    up = [getattr(r, field) for r in lister(order_by=[field]).all()]  # snake_case name works too
    present = [v for v in down if v is not None]
    assert len(set(present)) > 1, label
    assert present == sorted(present, reverse=True)
    assert [v for v in up if v is not None] == sorted(present)


def test_filter_and_status_narrow_the_machines_alerts_and_their_count(
    env: Any, client: Any, ids: dict[str, str]
) -> None:
    mine = client.machines.alerts(ids["machine"]).all()
    new = [a for a in mine if a.status == "New"]
    assert 0 < len(new) < len(mine) or new == mine
    assert client.machines.alerts(ids["machine"], status="New").count() == len(new)
    high = [a for a in mine if a.severity == "High"]
    listed = client.machines.alerts(ids["machine"], filter="severity eq 'High'").all()
    assert {a.id for a in listed} == {a.id for a in high}
    env.state.journal.clear()
    client.machines.alerts(ids["machine"]).count()
    client.software.by_machine(ids["machine"]).count()
    paths = [e["path"] for e in env.state.journal.entries() if e["path"].startswith("/api")]
    # the documented /alerts/$count segment; the others: the list itself with $count=true
    assert paths == [
        f"/api/machines/{ids['machine']}/alerts/$count",
        f"/api/machines/{ids['machine']}/software",
    ]


def test_bad_options_refused_before_sending_or_the_services_400(client: Any, ids: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="'name sideways'"):
        client.software.by_machine(ids["machine"], order_by="name sideways")
    with pytest.raises(BadRequestError, match="noSuchProperty"):
        client.files.machines(ids["sha1"], select="id,noSuchProperty").all()


def test_over_https_sync_and_async(env: Any, app: dict[str, Any], ids: dict[str, str]) -> None:
    with env.client(app, socket=True) as c:
        alerts = c.machines.alerts(ids["machine"], select="id,title", order_by="alertCreationTime desc").all()
        assert alerts and all(isinstance(a, Alert) and a.model_fields_set == {"id", "title"} for a in alerts)
        assert c.machines.alerts(ids["machine"]).count() == len(alerts)

    async def run() -> tuple[int, list[Any]]:
        async with env.aclient(app) as ac:
            n = await ac.software.by_machine(ids["machine"]).count()
            rows = await ac.software.by_machine(ids["machine"], select=["id"], order_by="id desc").all()
            return n, rows

    n, rows = asyncio.run(run())
    assert n == len(rows) > 0 and [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
    assert all(r.model_fields_set == {"id"} for r in rows)
