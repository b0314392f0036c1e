"""``client.incidents`` and ``client.alerts`` over both their APIs (``api=``): paging, updates, roles.

In-process (ASGI) for speed; one test over the real HTTPS socket and one with the async client.
The tenant has more incidents than one Graph page (50) and one XDR page at ``limit`` (100).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mdekit.catalog import GRAPH, MTP
from mdekit.errors import ConfigurationError, NotFoundError, PermissionMissingError
from mdekit.models import (
    Alert,
    AlertComment,
    DeviceEvidence,
    GraphAlert,
    GraphAlertComment,
    GraphIncident,
    Incident,
    IncidentComment,
)

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
    xdr = client.incidents.list(api="xdr").all()
    graph_pager = client.incidents.list()  # Graph: the default
    pages = list(graph_pager.pages())
    graph = [i for p in pages for i in p.items]
    assert len(xdr) > 100 and all(isinstance(i, Incident) for i in xdr)
    assert len(pages) == -(-len(xdr) // 50)  # Graph pages of 50, linked with $skiptoken
    assert all(isinstance(i, GraphIncident) for i in graph)
    assert [i.id for i in graph] == [str(i.incident_id) for i in xdr]  # same incidents, same order
    alert_ids = [a.alert_id for i in xdr for a in i.alerts]
    assert len(alert_ids) == len(set(alert_ids)) == 320  # every alert in exactly one incident


def test_limits_past_the_page_maximum_and_filters(client: Any) -> None:
    assert len(client.incidents.list(api="xdr", limit=130).all()) == 130  # $top ≤ 100: two pages
    assert len(client.incidents.list(api="graph", limit=70).all()) == 70  # $top ≤ 50
    active = client.incidents.list(api="xdr", status="Active", since=timedelta(days=3650)).all()
    assert active and {i.status for i in active} == {"Active"}
    high = client.alerts.list(api="graph", severity="high", limit=40).all()
    assert high and {a.severity for a in high} == {"high"} and all(isinstance(a, GraphAlert) for a in high)
    expanded = client.incidents.list(alerts=True, limit=3).all()
    assert all(i.alerts for i in expanded)
    assert all(i.alerts is None for i in client.incidents.list(limit=3).all())


def test_updates_are_seen_through_the_other_api(client: Any) -> None:
    first = client.incidents.list(api="xdr", status="Active", limit=1).all()[0]
    ident = first.incident_id
    updated = client.incidents.update(
        ident, api="xdr", status="InProgress", assigned_to="secop@contoso.com", classification="TruePositive",
        determination="Malware", tags=["ransomware"], comment="looking into it",
    )  # fmt: skip
    assert (updated.status, updated.determination, updated.tags) == ("InProgress", "Malware", ["ransomware"])
    seen = client.incidents.get(ident, alerts=True)
    assert (seen.status, seen.classification, seen.custom_tags) == (
        "inProgress",
        "truePositive",
        ["ransomware"],
    )
    assert seen.alerts is not None and {a.id for a in seen.alerts} == {a.alert_id for a in first.alerts}
    resolved = client.incidents.update(ident, status="resolved", tags=["ransomware", "done"], comment="fixed")
    assert isinstance(resolved, GraphIncident) and resolved.status == "resolved"
    assert resolved.custom_tags == ["ransomware", "done"] and resolved.comments[-1].comment == "fixed"
    comments = client.incidents.comment(ident, "contained")
    assert all(isinstance(c, GraphAlertComment) for c in comments)
    assert [c.comment for c in comments][-3:] == ["looking into it", "fixed", "contained"]
    xdr_comments = client.incidents.comment(ident, "closed", api="xdr")
    assert isinstance(xdr_comments[-1], IncidentComment) and xdr_comments[-1].comment == "closed"
    back = client.incidents.get(str(ident), api="xdr")
    assert isinstance(back, Incident) and (back.status, back.tags) == ("Resolved", ["ransomware", "done"])
    only_note = client.incidents.update(ident, comment="no other change")  # no PATCH: GET + comment
    assert only_note.status == "resolved" and only_note.comments[-1].comment == "no other change"


def test_graph_alerts_are_the_mde_alerts(client: Any) -> None:
    graph = client.alerts.list(api="graph").all()  # 320 alerts: one Graph page holds 2,000
    mde_alerts = client.alerts.list().all()
    assert all(isinstance(a, Alert) for a in mde_alerts)
    assert {a.id for a in graph} == {a.id for a in mde_alerts}
    target = graph[0].id
    one = client.alerts.get(target, api="graph")
    assert isinstance(one, GraphAlert) and any(isinstance(e, DeviceEvidence) for e in one.evidence)
    changed = client.alerts.update(target, api="graph", status="resolved", classification="falsePositive")
    assert (changed.status, changed.classification) == ("resolved", "falsePositive")
    assert client.alerts.comment(target, "benign", api="graph")[-1].comment == "benign"
    mde = client.alerts.get(target)
    assert isinstance(mde, Alert) and (mde.status, mde.classification) == ("Resolved", "FalsePositive")
    assert "benign" in [c.comment for c in mde.comments]
    noted = client.alerts.comment(target, "seen in MDE")
    assert isinstance(noted[-1], AlertComment) and noted[-1].comment == "seen in MDE"
    back = client.alerts.update(target, api="graph", status="inProgress", comment="reopened")
    assert back.status == "inProgress" and [c.comment for c in back.comments][-2:] == [
        "seen in MDE",
        "reopened",
    ]
    assert client.alerts.get(target).status == "InProgress"
    with pytest.raises(NotFoundError):
        client.alerts.get("da-no-such-alert", api="graph")


def test_an_api_the_family_does_not_serve_is_a_clear_error(client: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"client\.alerts has no api='xdr'.*'mde' or api='graph'"):
        client.alerts.list(api="xdr")
    with pytest.raises(ConfigurationError, match=r"client\.incidents has no api='mde'"):
        client.incidents.get(1, api="mde")
    with pytest.raises(ConfigurationError, match=r"severity= needs api='graph'"):
        client.incidents.list(api="xdr", severity="High")
    with pytest.raises(ConfigurationError, match=r"incident_id=, evidence= needs api='mde'"):
        client.alerts.list(api="graph", incident_id=4, evidence=True)


def test_roles_are_checked_per_api_before_sending(env: Any, soc: dict[str, Any]) -> None:
    reader = env.app(_roles("Alert.Read.All", mtp=("Incident.Read.All",)))  # in the seeded tenant (soc)
    with env.client(reader) as c:
        assert c.incidents.list(api="xdr", limit=1).all()
        with pytest.raises(PermissionMissingError, match=r"Incident\.ReadWrite\.All"):
            c.incidents.update(1, api="xdr", status="Resolved")
        with pytest.raises(PermissionMissingError, match=r"SecurityIncident\.Read\.All"):
            c.incidents.list(limit=1).all()  # Graph, the default
        with pytest.raises(PermissionMissingError, match=r"SecurityAlert\.Read\.All"):
            c.alerts.get("da1", api="graph")
        with pytest.raises(PermissionMissingError, match=r"SecurityIncident\.ReadWrite\.All"):
            c.incidents.comment(1, "x")
        assert c.alerts.list(limit=1).all()  # the MDE alerts, with Alert.Read.All


def test_over_the_https_socket(env: Any, soc: dict[str, Any]) -> None:
    with env.client(soc, socket=True) as c:
        graph = c.alerts.list(api="graph", limit=5).all()
        assert len(graph) == 5
        incident = c.incidents.get(graph[0].incident_id or "", api="xdr")
        assert graph[0].id in {a.alert_id for a in incident.alerts}
        assert c.incidents.get(incident.incident_id).id == str(incident.incident_id)
        assert len(c.incidents.list(limit=60).all()) == 60  # two Graph pages over the socket
        updated = c.incidents.update(incident.incident_id, api="xdr", assigned_to="tier3@contoso.com")
        assert c.incidents.get(updated.incident_id).assigned_to == "tier3@contoso.com"


async def test_the_async_client(env: Any, soc: dict[str, Any]) -> None:
    async with env.aclient(soc) as c:
        listed = [i async for i in c.incidents.list(limit=60)]
        assert len(listed) == 60 and all(isinstance(i, GraphIncident) for i in listed)
        one = await c.incidents.get(listed[0].id, api="xdr")
        assert str(one.incident_id) == listed[0].id
        alert_id = one.alerts[0].alert_id
        updated = await c.alerts.update(
            alert_id, api="graph", assigned_to="tier2@contoso.com", comment="mine"
        )
        assert updated.assigned_to == "tier2@contoso.com" and updated.comments[-1].comment == "mine"
        assert (await c.alerts.get(alert_id)).assigned_to == "tier2@contoso.com"
        notes = await c.incidents.comment(listed[0].id, "async note")
        assert notes[-1].comment == "async note"
        graph_alerts = [a async for a in c.alerts.list(api="graph", limit=3)]
        assert len(graph_alerts) == 3 and all(isinstance(a, GraphAlert) for a in graph_alerts)
