"""The seed's incidents (related alerts grouped, deterministic) and the control plane that regroups
alerts: a new incident, alerts moved in, incidents merged (the losers ``Redirected``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from incident_helpers import Sec, follow

from mdekit.emulator.clock import parse_time


def _incidents(sec: Sec) -> dict[int, dict[str, Any]]:
    return {i["incidentId"]: i for p in follow(sec.xdr, "/api/incidents") for i in p["value"]}


def test_seeded_incidents_group_alerts_of_one_machine_close_in_time(sec: Sec) -> None:
    incidents = _incidents(sec)
    alerts = sec.mde.get("/api/alerts").json()["value"]
    by_incident: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for alert in alerts:
        by_incident[alert["incidentId"]].append(alert)
    assert set(by_incident) == set(incidents) and any(len(v) > 1 for v in by_incident.values())
    order = ("UnSpecified", "Informational", "Low", "Medium", "High")
    for iid, members in by_incident.items():
        incident = incidents[iid]
        assert len({a["machineId"] for a in members}) == 1  # one device
        times = sorted(parse_time(a["alertCreationTime"]) for a in members)
        assert (times[-1] - times[0]).total_seconds() < 6 * 86400  # a few of 150 slots over 30 days
        assert incident["severity"] == max((a["severity"] for a in members), key=order.index)
        assert incident["createdTime"] == min(a["alertCreationTime"] for a in members)
        statuses = {a["status"] for a in members}
        expected = (
            "Resolved"
            if statuses == {"Resolved"}
            else ("InProgress" if "InProgress" in statuses else "Active")
        )
        assert incident["status"] == expected
        assert incident["incidentName"].endswith("on one endpoint")


def test_the_same_seed_makes_the_same_incidents(sec: Sec) -> None:
    first = sec.xdr.get("/api/incidents?$top=100").json()["value"]
    sec.seed(30, 150)
    assert sec.xdr.get("/api/incidents?$top=100").json()["value"] == first
    sec.seed(30, 150, seed=12)
    assert sec.xdr.get("/api/incidents?$top=100").json()["value"] != first


def test_control_plane_moves_alerts_and_redirects_emptied_incidents(sec: Sec) -> None:
    incidents = _incidents(sec)
    single = next(i for i in incidents.values() if len(i["alerts"]) == 1 and i["status"] == "Active")
    target = next(
        i for i in incidents.values() if len(i["alerts"]) >= 2 and i["incidentId"] != single["incidentId"]
    )
    moved = single["alerts"][0]["alertId"]
    url = f"/_emulator/tenants/{sec.tenant}/incidents/{target['incidentId']}/alerts"
    reply = sec.control.post(url, json={"alertIds": [moved]})
    assert reply.status_code == 200, reply.text
    summary = reply.json()
    assert moved in summary["alertIds"] and summary["redirected"] == [single["incidentId"]]
    assert sec.mde.get(f"/api/alerts/{moved}").json()["incidentId"] == target["incidentId"]
    emptied = sec.xdr.get(f"/api/incidents/{single['incidentId']}").json()
    assert (emptied["status"], emptied["redirectIncidentId"], emptied["alerts"]) == (
        "Redirected",
        target["incidentId"],
        [],
    )
    graph = sec.graph.get(f"/v1.0/security/incidents/{single['incidentId']}").json()
    assert (graph["status"], graph["redirectIncidentId"]) == ("redirected", str(target["incidentId"]))
    assert sec.graph.get(f"/v1.0/security/alerts_v2/{moved}").json()["incidentId"] == str(
        target["incidentId"]
    )
    refused = sec.xdr.patch(f"/api/incidents/{single['incidentId']}", json={"status": "Resolved"})
    assert refused.status_code == 400  # a merged incident is not triaged any more


def test_control_plane_merges_incidents_and_groups_alerts_anew(sec: Sec) -> None:
    incidents = sorted(_incidents(sec).values(), key=lambda i: i["incidentId"])
    low = next(i for i in incidents if i["severity"] == "Low" and i["status"] == "Active")
    high = next(i for i in incidents if i["severity"] == "High" and i["status"] == "Active")
    url = f"/_emulator/tenants/{sec.tenant}/incidents/{low['incidentId']}/merge"
    reply = sec.control.post(url, json={"incidentIds": [high["incidentId"]]})
    assert reply.status_code == 200, reply.text
    merged = sec.xdr.get(f"/api/incidents/{low['incidentId']}").json()
    assert merged["severity"] == "High"  # the highest severity of its alerts
    assert {a["alertId"] for a in merged["alerts"]} == {
        a["alertId"] for a in (*low["alerts"], *high["alerts"])
    }
    loser = sec.xdr.get(f"/api/incidents/{high['incidentId']}").json()
    assert (loser["status"], loser["redirectIncidentId"]) == ("Redirected", low["incidentId"])
    redirected = sec.xdr.get("/api/incidents?$filter=status eq 'Redirected'").json()["value"]
    assert [i["incidentId"] for i in redirected] == [high["incidentId"]]
    # a new incident from one alert of each
    picked = [merged["alerts"][0]["alertId"], incidents[-1]["alerts"][0]["alertId"]]
    created = sec.control.post(f"/_emulator/tenants/{sec.tenant}/incidents", json={"alertIds": picked})
    assert created.status_code == 201, created.text
    new_id = created.json()["incidentId"]
    assert new_id > max(i["incidentId"] for i in incidents)
    fresh = sec.graph.get(f"/v1.0/security/incidents/{new_id}?$expand=alerts").json()
    assert sorted(a["id"] for a in fresh["alerts"]) == sorted(picked) and fresh["status"] == "active"


def test_control_plane_refuses_bad_requests(sec: Sec) -> None:
    base = f"/_emulator/tenants/{sec.tenant}/incidents"
    some = next(iter(_incidents(sec)))
    assert sec.control.post(f"{base}/{some}/alerts", json={"alertIds": ["da0_0"]}).status_code == 404
    assert sec.control.post(f"{base}/{some}/alerts", json={"alertIds": []}).status_code == 400
    assert sec.control.post(f"{base}/999999/merge", json={"incidentIds": [some]}).status_code == 404
    assert sec.control.post(f"{base}/{some}/merge", json={"incidentIds": [some]}).status_code == 400
    assert sec.control.post(f"{base}/{some}/merge", json={"incidentIds": ["x"]}).status_code == 400
    assert sec.control.post(base, json={"alertIds": ["nope"]}).status_code == 404
    assert (
        sec.control.post("/_emulator/tenants/nowhere/incidents", json={"alertIds": ["a"]}).status_code == 404
    )
