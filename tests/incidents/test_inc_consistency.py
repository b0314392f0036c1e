"""One model under three APIs: an MDE alert is a Graph alert and belongs to an incident; a change
made through one API is what the others answer (values mapped as documented)."""

from __future__ import annotations

from typing import Any

from incident_helpers import Sec, follow


def _pick_alert(sec: Sec, status: str = "New") -> dict[str, Any]:
    return dict(sec.mde.get(f"/api/alerts?$filter=status eq '{status}'&$top=1").json()["value"][0])


def _xdr_alert(sec: Sec, incident_id: int, alert_id: str) -> dict[str, Any]:
    incident = sec.xdr.get(f"/api/incidents/{incident_id}").json()
    return next(a for a in incident["alerts"] if a["alertId"] == alert_id)


def test_every_mde_alert_is_a_graph_alert_in_an_existing_incident(sec: Sec) -> None:
    mde = {a["id"]: a for a in sec.mde.get("/api/alerts").json()["value"]}
    graph = {
        a["id"]: a for page in follow(sec.graph, "/v1.0/security/alerts_v2?$top=40") for a in page["value"]
    }
    assert set(graph) == set(mde) and len(mde) == 150
    assert all(a["id"].startswith("da") and a["providerAlertId"] == a["id"] for a in graph.values())
    assert all(graph[i]["incidentId"] == str(a["incidentId"]) for i, a in mde.items())
    incidents = {i["incidentId"]: i for page in follow(sec.xdr, "/api/incidents") for i in page["value"]}
    assert {a["incidentId"] for a in mde.values()} == set(incidents)
    for incident in incidents.values():  # each incident lists exactly its alerts
        listed = {a["alertId"] for a in incident["alerts"]}
        assert listed == {i for i, a in mde.items() if a["incidentId"] == incident["incidentId"]}


def test_graph_alert_patch_is_seen_by_mde_and_xdr(sec: Sec) -> None:
    alert = _pick_alert(sec)
    patch = {
        "status": "resolved",
        "classification": "truePositive",
        "determination": "malware",
        "assignedTo": "soc@contoso.com",
    }
    answer = sec.graph.patch(f"/v1.0/security/alerts_v2/{alert['id']}", json=patch)
    assert answer.status_code == 200, answer.text
    graph = answer.json()
    assert {k: graph[k] for k in patch} == patch and graph["resolvedDateTime"]
    mde = sec.mde.get(f"/api/alerts/{alert['id']}").json()
    assert (mde["status"], mde["classification"], mde["determination"], mde["assignedTo"]) == (
        "Resolved",
        "TruePositive",
        "Malware",
        "soc@contoso.com",
    )
    assert (
        mde["resolvedTime"] == graph["resolvedDateTime"]
        and mde["lastUpdateTime"] == graph["lastUpdateDateTime"]
    )
    xdr = _xdr_alert(sec, alert["incidentId"], alert["id"])
    assert (xdr["status"], xdr["classification"], xdr["determination"]) == (
        "Resolved",
        "TruePositive",
        "Malware",
    )
    incident = sec.xdr.get(f"/api/incidents/{alert['incidentId']}").json()
    assert incident["lastUpdateTime"] >= mde["lastUpdateTime"]  # the incident was updated with its alert
    again = sec.graph.get(f"/v1.0/security/alerts_v2/{alert['id']}").json()
    assert {k: again[k] for k in patch} == patch  # a PATCH round trip


def test_mde_alert_patch_is_seen_by_graph_with_its_values_mapped(sec: Sec) -> None:
    alert = _pick_alert(sec)
    body = {"status": "InProgress", "classification": "FalsePositive", "determination": "NotMalicious"}
    assert sec.mde.patch(f"/api/alerts/{alert['id']}", json=body).status_code == 200
    graph = sec.graph.get(f"/v1.0/security/alerts_v2/{alert['id']}").json()
    # NotMalicious is the MDE docs' other spelling of Clean; Graph answers "clean"
    assert (graph["status"], graph["classification"], graph["determination"]) == (
        "inProgress",
        "falsePositive",
        "clean",
    )
    found = sec.graph.get(
        "/v1.0/security/alerts_v2?$filter=determination eq 'clean' and status eq 'inProgress'"
    )
    assert alert["id"] in {a["id"] for a in found.json()["value"]}
    assert _xdr_alert(sec, alert["incidentId"], alert["id"])["determination"] == "Clean"


def test_resolving_an_incident_resolves_and_assigns_its_alerts_everywhere(sec: Sec) -> None:
    incident = sec.xdr.get("/api/incidents?$filter=status eq 'Active'&$top=100").json()["value"]
    target = max(incident, key=lambda i: len(i["alerts"]))
    body = {
        "status": "Resolved",
        "assignedTo": "secop2@contoso.com",
        "classification": "TruePositive",
        "determination": "CompromisedAccount",
        "tags": ["pen test"],
        "comment": "pen testing",
    }
    answer = sec.xdr.patch(f"/api/incidents/{target['incidentId']}", json=body)
    assert answer.status_code == 200, answer.text
    saved = answer.json()
    assert saved["@odata.context"].endswith("$metadata#Incidents/$entity")
    assert (saved["status"], saved["assignedTo"], saved["classification"], saved["determination"]) == (
        "Resolved",
        "secop2@contoso.com",
        "TruePositive",
        "CompromisedUser",  # the update page's CompromisedAccount, stored and read as CompromisedUser
    )
    assert saved["tags"] == ["pen test"] and saved["comments"][-1]["comment"] == "pen testing"
    assert saved["comments"][-1]["createdBy"] == "SOC automation"
    assert all(a["status"] == "Resolved" and a["assignedTo"] == "secop2@contoso.com" for a in saved["alerts"])
    for alert in saved["alerts"]:
        mde = sec.mde.get(f"/api/alerts/{alert['alertId']}").json()
        assert (
            mde["status"] == "Resolved" and mde["resolvedTime"] and mde["assignedTo"] == "secop2@contoso.com"
        )
    graph = sec.graph.get(f"/v1.0/security/incidents/{target['incidentId']}?$expand=alerts").json()
    assert (graph["status"], graph["classification"], graph["determination"]) == (
        "resolved",
        "truePositive",
        "compromisedUser",
    )
    assert graph["customTags"] == ["pen test"]
    assert graph["comments"][-1] == {
        "comment": "pen testing",
        "createdByDisplayName": "SOC automation",
        "createdDateTime": saved["comments"][-1]["createdTime"],
    }
    assert {a["status"] for a in graph["alerts"]} == {"resolved"}


def test_graph_incident_patch_and_comment_are_seen_by_xdr(sec: Sec) -> None:
    incident = sec.graph.get("/v1.0/security/incidents?$filter=status eq 'active'&$top=1").json()["value"][0]
    path = f"/v1.0/security/incidents/{incident['id']}"
    # The docs' own update example sends PascalCase values: Graph takes either case.
    body = {"classification": "TruePositive", "determination": "MultiStagedAttack", "customTags": ["Demo"]}
    answer = sec.graph.patch(path, json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["classification"], answer.json()["determination"]) == (
        "truePositive",
        "multiStagedAttack",
    )
    assert answer.json()["status"] == "active"  # omitted properties keep their values
    comment = sec.graph.post(
        f"{path}/comments",
        json={"@odata.type": "microsoft.graph.security.alertComment", "comment": "Demo for docs"},
    )
    assert comment.status_code == 200, comment.text
    listed = comment.json()
    assert listed["@odata.context"].endswith(f"$metadata#security/incidents('{incident['id']}')/comments")
    assert listed["value"][-1]["comment"] == "Demo for docs"
    xdr = sec.xdr.get(f"/api/incidents/{incident['id']}").json()
    assert (xdr["classification"], xdr["determination"], xdr["tags"]) == (
        "TruePositive",
        "MultiStagedAttack",
        ["Demo"],
    )
    assert xdr["comments"][-1]["comment"] == "Demo for docs"
    unassign = sec.graph.patch(path, json={"assignedTo": None, "status": "inProgress"})
    assert unassign.status_code == 200 and unassign.json()["assignedTo"] is None
    assert sec.xdr.get(f"/api/incidents/{incident['id']}").json()["status"] == "InProgress"


def test_graph_alert_comment_is_an_mde_alert_comment(sec: Sec) -> None:
    alert = _pick_alert(sec)
    reply = sec.graph.post(
        f"/v1.0/security/alerts_v2/{alert['id']}/comments",
        json={"@odata.type": "microsoft.graph.security.alertComment", "comment": "checked the host"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["value"][-1]["createdByDisplayName"] == "SOC automation"
    comments = sec.mde.get(f"/api/alerts/{alert['id']}").json()["comments"]
    assert comments[-1]["comment"] == "checked the host" and comments[-1]["createdBy"] == "SOC automation"


def test_an_alert_created_through_mde_gets_its_own_incident(sec: Sec) -> None:
    # the event as advanced hunting shows it (an unknown event is 404)
    query = {"Query": "DeviceProcessEvents | take 1 | project Timestamp, DeviceId, ReportId"}
    hunted = sec.mde.post("/api/advancedqueries/run", json=query)
    assert hunted.status_code == 200, hunted.text
    event = hunted.json()["Results"][0]
    body = {
        "machineId": event["DeviceId"],
        "severity": "High",
        "title": "Custom detection",
        "description": "found by hunting",
        "recommendedAction": "isolate",
        "eventTime": event["Timestamp"],
        "reportId": event["ReportId"],
        "category": "Execution",
    }
    created = sec.mde.post("/api/alerts/CreateAlertByReference", json=body)
    assert created.status_code == 200, created.text
    alert = created.json()
    assert isinstance(alert["incidentId"], int)
    incident = sec.graph.get(f"/v1.0/security/incidents/{alert['incidentId']}?$expand=alerts").json()
    assert [a["id"] for a in incident["alerts"]] == [alert["id"]]
    assert (incident["status"], incident["severity"]) == ("active", "high")
    assert incident["displayName"] == "Custom detection on one endpoint"


def test_hunting_alert_tables_carry_the_same_alert_ids(sec: Sec) -> None:
    reply = sec.mde.post("/api/advancedqueries/run", json={"Query": "AlertInfo | project AlertId"})
    assert reply.status_code == 200, reply.text
    hunted = {r["AlertId"] for r in reply.json()["Results"]}
    graph = {a["id"] for page in follow(sec.graph, "/v1.0/security/alerts_v2") for a in page["value"]}
    assert hunted == graph
