"""Incident and Graph alert families: XDR and Graph through one client, paging, updates, roles.

In-process (ASGI) for speed; one test over the real HTTPS socket and one with the async client.
The tenant has more incidents than one Graph page (50) and one XDR page at ``limit`` (100).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mdekit.catalog import GRAPH, MTP
from mdekit.errors import NotFoundError, PermissionMissingError
from mdekit.models import DeviceEvidence, GraphAlert, GraphIncident, Incident

MTP_URI, GRAPH_URI = MTP.identifier_uris[0], GRAPH.identifier_uris[0]


def _roles(*mde: str, mtp: tuple[str, ...] = (), graph: tuple[str, ...] = ()) -> list[Any]:
    return [
        *mde,
        *({"resource": MTP_URI, "role": r} for r in mtp),
        *({"resource": GRAPH_URI, "role": r} for r in graph),
    ]


SOC = _roles(
    "Alert.ReadWrite.All",
    mtp=("Incident.ReadWrite.All",),
    graph=("SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"),
)


@pytest.fixture(scope="module")
def soc(env: Any) -> dict[str, Any]:
    env.seed({"machines": 40, "alerts": 320, "seed": 11})
    return dict(env.app(SOC))


@pytest.fixture
def client(env: Any, soc: dict[str, Any]) -> Any:
    with env.client(soc) as c:
        yield c


def test_both_apis_list_the_same_incidents_across_pages(client: Any) -> None:
    xdr = client.incidents.list().all()
    graph_pager = client.graph_incidents.list()
    pages = list(graph_pager.pages())
    graph = [i for p in pages for i in p.items]
    assert len(xdr) > 100 and all(isinstance(i, Incident) for i in xdr)
    assert len(pages) == -(-len(xdr) // 50)  # Graph pages of 50, linked with $skiptoken
    assert all(isinstance(i, GraphIncident) for i in graph)
    assert [i.id for i in graph] == [str(i.incident_id) for i in xdr]  # same incidents, same order
    alert_ids = [a.alert_id for i in xdr for a in i.alerts]
    assert len(alert_ids) == len(set(alert_ids)) == 320  # every alert in exactly one incident


def test_limits_past_the_page_maximum_and_filters(client: Any) -> None:
    assert len(client.incidents.list(limit=130).all()) == 130  # $top ≤ 100: two pages
    assert len(client.graph_incidents.list(limit=70).all()) == 70  # $top ≤ 50
    active = client.incidents.list(status="Active", since=timedelta(days=3650)).all()
    assert active and {i.status for i in active} == {"Active"}
    high = client.graph_alerts.list(severity="high", limit=40).all()
    assert high and {a.severity for a in high} == {"high"}
    expanded = client.graph_incidents.list(alerts=True, limit=3).all()
    assert all(i.alerts for i in expanded)
    assert all(i.alerts is None for i in client.graph_incidents.list(limit=3).all())


def test_updates_are_seen_through_the_other_api(client: Any) -> None:
    first = client.incidents.list(status="Active", limit=1).all()[0]
    ident = first.incident_id
    updated = client.incidents.update(
        ident, status="InProgress", assigned_to="secop@contoso.com", classification="TruePositive",
        determination="Malware", tags=["ransomware"], comment="looking into it",
    )  # fmt: skip
    assert (updated.status, updated.determination, updated.tags) == ("InProgress", "Malware", ["ransomware"])
    seen = client.graph_incidents.get(ident, alerts=True)
    assert (seen.status, seen.classification, seen.custom_tags) == (
        "inProgress",
        "truePositive",
        ["ransomware"],
    )
    assert seen.alerts is not None and {a.id for a in seen.alerts} == {a.alert_id for a in first.alerts}
    resolved = client.graph_incidents.update(ident, status="resolved", custom_tags=["ransomware", "done"])
    assert resolved.status == "resolved"
    comments = client.graph_incidents.comment(ident, "contained")
    assert [c.comment for c in comments][-2:] == ["looking into it", "contained"]
    back = client.incidents.get(str(ident))
    assert (back.status, back.tags) == ("Resolved", ["ransomware", "done"])


def test_graph_alerts_are_the_mde_alerts(client: Any) -> None:
    graph = client.graph_alerts.list().all()
    assert {a.id for a in graph} == {a.id for a in client.alerts.list()}
    target = graph[0].id
    one = client.graph_alerts.get(target)
    assert isinstance(one, GraphAlert) and any(isinstance(e, DeviceEvidence) for e in one.evidence)
    changed = client.graph_alerts.update(target, status="resolved", classification="falsePositive")
    assert (changed.status, changed.classification) == ("resolved", "falsePositive")
    assert client.graph_alerts.comment(target, "benign")[-1].comment == "benign"
    mde = client.alerts.get(target)
    assert (mde.status, mde.classification) == ("Resolved", "FalsePositive")
    assert "benign" in [c.comment for c in mde.comments]
    with pytest.raises(NotFoundError):
        client.graph_alerts.get("da-no-such-alert")


def test_roles_are_checked_per_api_before_sending(env: Any, soc: dict[str, Any]) -> None:
    reader = env.app(_roles("Alert.Read.All", mtp=("Incident.Read.All",)))  # in the seeded tenant (soc)
    with env.client(reader) as c:
        assert c.incidents.list(limit=1).all()
        with pytest.raises(PermissionMissingError, match=r"Incident\.ReadWrite\.All"):
            c.incidents.update(1, status="Resolved")
        with pytest.raises(PermissionMissingError, match=r"SecurityIncident\.Read\.All"):
            c.graph_incidents.list(limit=1).all()
        with pytest.raises(PermissionMissingError, match=r"SecurityAlert\.Read\.All"):
            c.graph_alerts.get("da1")


def test_over_the_https_socket(env: Any, soc: dict[str, Any]) -> None:
    with env.client(soc, socket=True) as c:
        graph = c.graph_alerts.list(limit=5).all()
        assert len(graph) == 5
        incident = c.incidents.get(graph[0].incident_id or "")
        assert graph[0].id in {a.alert_id for a in incident.alerts}
        assert c.graph_incidents.get(incident.incident_id).id == str(incident.incident_id)


async def test_the_async_client(env: Any, soc: dict[str, Any]) -> None:
    async with env.aclient(soc) as c:
        listed = [i async for i in c.graph_incidents.list(limit=60)]
        assert len(listed) == 60
        one = await c.incidents.get(listed[0].id)
        assert str(one.incident_id) == listed[0].id
        updated = await c.graph_alerts.update(one.alerts[0].alert_id, assigned_to="tier2@contoso.com")
        assert updated.assigned_to == "tier2@contoso.com"
