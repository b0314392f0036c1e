"""``select=``, ``order_by=`` and ``count()`` on every client list, end to end over the emulator (issue 12).

Most cases run in process (ASGI) for speed; one sync and one async test go over the real HTTPS
socket. Each asserts what a user sees: the selected keys (in the entity's key order on the wire),
the order of the items, and counts equal to the number of items the emulator lists for the filter.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.client.base import partial_model
from mdekit.errors import BadRequestError, ConfigurationError
from mdekit.models import Alert, GraphAlert, Machine

MTP_URI, GRAPH_URI = MTP.identifier_uris[0], GRAPH.identifier_uris[0]
EVERYTHING = [
    *MDE.roles,
    {"resource": MTP_URI, "role": "Incident.Read.All"},
    {"resource": GRAPH_URI, "role": "SecurityIncident.Read.All"},
    {"resource": GRAPH_URI, "role": "SecurityAlert.Read.All"},
]

#: (family, builder kwargs) of every list the client pages through, MDE, XDR and Graph.
LISTS: list[tuple[str, dict[str, Any]]] = [
    ("alerts", {}),
    ("machines", {}),
    ("machines.av_health", {}),
    ("actions", {}),
    ("indicators", {}),
    ("investigations", {}),
    ("vulnerabilities", {}),
    ("vulnerabilities.by_machine_and_software", {}),
    ("software", {}),
    ("recommendations", {}),
    ("remediation", {}),
    ("incidents@xdr", {}),
    ("incidents@graph", {}),
    ("alerts@graph", {}),
]


@pytest.fixture(scope="module")
def app(env: Any) -> dict[str, Any]:
    env.seed({"machines": 30, "alerts": 120, "seed": 5})
    return dict(env.app(EVERYTHING))


@pytest.fixture
def client(env: Any, app: dict[str, Any]) -> Any:
    with env.client(app) as c:
        yield c


def _lister(client: Any, name: str) -> Callable[..., Any]:
    """``family[.method][@api]``: that list method, with ``api=`` when the name gives one."""
    path, _, api = name.partition("@")
    family, _, method = path.partition(".")
    lister = getattr(getattr(client, family), method or "list")
    return functools.partial(lister, api=api) if api else lister


def _seed_lists(client: Any) -> None:
    """Lists that start empty get items: a machine action, indicators, an investigation."""
    if client.indicators.list(limit=1).all():
        return
    machine = client.machines.list(limit=1).all()[0]
    client.actions.scan(machine.id, "odata options")
    client.investigations.start(machine.id, "odata options")
    for value in ("odata-a.example", "odata-b.example", "odata-c.example"):
        client.indicators.submit(
            {"indicatorValue": value, "indicatorType": "DomainName", "action": "Alert",
             "title": value, "description": "d", "severity": "Low"}
        )  # fmt: skip


@pytest.mark.parametrize("name", [n for n, _ in LISTS])
def test_count_equals_the_rows_listed_on_every_list(client: Any, name: str) -> None:
    _seed_lists(client)
    lister = _lister(client, name)
    rows = lister().all()
    assert rows, name
    assert lister().count() == len(rows)
    # limit caps the listing, not the count
    assert lister(limit=1).count() == len(rows)


@pytest.mark.parametrize("name", [n for n, _ in LISTS])
def test_select_on_every_list_returns_typed_partial_records(client: Any, name: str) -> None:
    _seed_lists(client)
    lister = _lister(client, name)
    full = lister(limit=3).all()
    wire = [r.to_wire() for r in full]
    keys = [k for k in wire[0] if not k.startswith("@") and isinstance(wire[0][k], str | int | float)]
    wanted = [keys[-1], keys[0]]  # asked in reverse order
    picked = lister(select=wanted, limit=3).all()
    assert len(picked) == len(full)
    model = type(full[0])
    for record, whole in zip(picked, wire, strict=True):
        assert isinstance(record, model)  # still the typed model
        got = record.model_dump(by_alias=True, exclude_unset=True, mode="json")
        if name.endswith("@graph"):  # Graph always returns the id (and @odata.type) too
            got = {k: v for k, v in got.items() if k in wanted}
        assert list(got) == sorted(wanted, key=keys.index)  # the entity's own key order
        assert got == {k: whole[k] for k in got}


def test_select_with_snake_case_names_and_unselected_fields_none(client: Any) -> None:
    machines = client.machines.list(select=["computer_dns_name", "lastSeen"], limit=5).all()
    assert machines and all(isinstance(m, Machine) for m in machines)
    assert all(m.id is None and m.health_status is None for m in machines)
    assert all(m.computer_dns_name and m.last_seen is not None for m in machines)
    assert machines[0].model_fields_set == {"computer_dns_name", "last_seen"}
    # a comma string works as well
    same = client.machines.list(select="computerDnsName, lastSeen", limit=5).all()
    assert [m.computer_dns_name for m in same] == [m.computer_dns_name for m in machines]
    assert partial_model(Machine) is not Machine and issubclass(partial_model(Machine), Machine)


@pytest.mark.parametrize(
    ("name", "prop", "field"),
    [
        ("machines", "lastSeen", "last_seen"),
        ("alerts", "alertCreationTime", "alert_creation_time"),
        ("vulnerabilities", "cvssV3", "cvss_v3"),
        ("alerts@graph", "createdDateTime", "created_date_time"),
        ("incidents@xdr", "createdTime", "created_time"),
    ],
)
def test_order_by_both_ways(client: Any, name: str, prop: str, field: str) -> None:
    lister = _lister(client, name)
    down = [getattr(r, field) for r in lister(order_by=f"{prop} desc").all()]
    up = [getattr(r, field) for r in lister(order_by=[prop]).all()]
    present = [v for v in down if v is not None]
    assert len(set(present)) > 1
    assert present == sorted(present, reverse=True)
    assert [v for v in up if v is not None] == sorted(present)


def test_order_by_several_keys_across_pages(client: Any) -> None:
    machines = client.machines.list(order_by=["healthStatus", "computerDnsName desc"], page_size=7).all()
    assert len(machines) == 30  # five pages of $top/$skip, ordered across them
    pairs = [(m.health_status, m.computer_dns_name) for m in machines]
    for (h1, n1), (h2, n2) in itertools.pairwise(pairs):
        assert h1 < h2 or (h1 == h2 and n1 >= n2)


def test_count_follows_the_filters(client: Any) -> None:
    every = client.alerts.list().all()
    high_new = [a for a in every if a.severity == "High" and a.status == "New"]
    assert client.alerts.list(severity="High", status="New").count() == len(high_new)
    graph = client.alerts.list(api="graph", severity="high").all()
    assert client.alerts.list(api="graph", severity="high").count() == len(graph) > 0
    active = client.machines.list(health_status="Active").all()
    assert client.machines.list(health_status="Active").count() == len(active)


def test_count_asks_the_count_segment_or_odata_count(env: Any, client: Any) -> None:
    env.state.journal.clear()
    assert client.alerts.list(status="New").count() >= 0
    assert client.incidents.list().count() > 0
    paths = [e["path"] for e in env.state.journal.entries() if e["path"].startswith(("/api", "/v1.0"))]
    # MDE: the /$count segment (a bare number); Graph: the list itself with $count=true
    assert paths == ["/api/alerts/$count", "/v1.0/security/incidents"]


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"select": []}, "at least one property"),
        ({"select": ["id", ""]}, "empty property name"),
        ({"select": ["id; drop"]}, "not a property name"),
        ({"select": 5}, "expected a list of property names"),
        ({"order_by": "lastSeen sideways"}, "'lastSeen sideways'"),
        ({"order_by": ["lastSeen desc extra"]}, "is not 'property'"),
        ({"order_by": "1abc"}, "not a property name"),
    ],
)
def test_bad_options_are_refused_before_sending(client: Any, kwargs: dict[str, Any], text: str) -> None:
    with pytest.raises(ConfigurationError, match=text):
        client.machines.list(**kwargs)


def test_unknown_property_is_the_services_400_naming_it(client: Any) -> None:
    with pytest.raises(BadRequestError, match="noSuchProperty"):
        client.machines.list(select=["id", "noSuchProperty"]).all()
    with pytest.raises(BadRequestError, match="noSuchProperty"):
        client.alerts.list(order_by="noSuchProperty desc").all()


def test_exports_cannot_select_or_count(client: Any) -> None:
    with pytest.raises(ConfigurationError, match="link only"):
        client.exports.software_inventory().count()


def test_over_https_sync_and_async(env: Any, app: dict[str, Any]) -> None:
    with env.client(app, socket=True) as c:
        alerts = c.alerts.list(select="id,title,severity", order_by="alertCreationTime desc").all()
        assert alerts and all(isinstance(a, Alert) for a in alerts)
        assert all(set(a.model_fields_set) == {"id", "title", "severity"} for a in alerts)
        assert c.alerts.list().count() == len(alerts)
        graph = c.alerts.list(api="graph", select=["title"], order_by="createdDateTime").all()
        assert all(isinstance(g, GraphAlert) and g.id and g.title for g in graph)
        expected = c.alerts.list(api="graph").count()

    async def run() -> tuple[int, list[Any], int]:
        async with env.aclient(app) as ac:
            n = await ac.machines.list(os_platform="Windows10").count()
            rows = await ac.machines.list(os_platform="Windows10", select=["id"], order_by="id desc").all()
            g = await ac.alerts.list(api="graph").count()
            return n, rows, g

    n, rows, g = asyncio.run(run())
    assert n == len(rows) and [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
    assert all(r.model_fields_set == {"id"} for r in rows)
    assert g == expected == len(graph)
