"""Alerts and machines: envelopes, key order, updates, tags, lookups by IP/tag, related entities."""

from __future__ import annotations

from typing import Any

from defender_helpers import Api

from mdekit.emulator.defender.enums import ALERT_KEYS, EVIDENCE_KEYS
from mdekit.emulator.state import EmulatorState

ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
MACHINE_KEYS = [
    "id",
    "mergedIntoMachineId",
    "isPotentialDuplication",
    "isExcluded",
    "exclusionReason",
    "computerDnsName",
    "firstSeen",
    "lastSeen",
    "osPlatform",
    "osVersion",
    "osProcessor",
    "version",
    "lastIpAddress",
    "lastExternalIpAddress",
    "agentVersion",
    "osBuild",
    "healthStatus",
    "deviceValue",
    "rbacGroupId",
    "rbacGroupName",
    "riskScore",
    "exposureLevel",
    "isAadJoined",
    "aadDeviceId",
    "machineTags",
    "defenderAvStatus",
    "onboardingStatus",
    "osArchitecture",
    "managedBy",
    "managedByStatus",
    "ipAddresses",
    "vmMetadata",
]


def test_alert_list_envelope_and_shape(api: Api) -> None:
    r = api.get("/api/alerts?$top=3&$expand=evidence")
    assert r.status_code == 200
    assert r.headers["content-type"] == ODATA_JSON and r.headers["odata-version"] == "4.0"
    body = r.json()
    assert list(body) == ["@odata.context", "value"]
    assert body["@odata.context"] == "https://api.securitycenter.microsoft.com/api/$metadata#Alerts"
    alert = body["value"][0]
    assert list(alert) == list(ALERT_KEYS)
    assert alert["evidence"] and all(list(e) == list(EVIDENCE_KEYS) for e in alert["evidence"])
    assert api.get("/api/alerts?$top=1").json()["value"][0]["evidence"] == []


def test_alert_filters(api: Api) -> None:
    new = api.get("/api/alerts?$filter=status eq 'New' and severity ne 'Informational'").json()["value"]
    assert new and all(a["status"] == "New" and a["severity"] != "Informational" for a in new)
    cutoff = new[0]["alertCreationTime"][:19] + "Z"
    later = api.get(f"/api/alerts?$filter=alertCreationTime ge {cutoff}").json()["value"]
    assert later and all(a["alertCreationTime"] >= cutoff[:19] for a in later)
    bad = api.get("/api/alerts?$filter=title eq 'x'")
    assert bad.status_code == 400 and "title" in bad.json()["error"]["message"]


def test_get_update_and_batch_update(api: Api, state: EmulatorState) -> None:
    alert = api.get("/api/alerts?$filter=status eq 'New'&$top=2").json()["value"]
    one = api.get(f"/api/alerts/{alert[0]['id']}?$expand=evidence").json()
    assert one["@odata.context"].endswith("#Alerts/$entity") and one["evidence"]
    r = api.patch(
        f"/api/alerts/{alert[0]['id']}",
        {
            "status": "Resolved",
            "classification": "TruePositive",
            "determination": "Malware",
            "comment": "done",
        },
    )
    assert r.status_code == 200
    updated = r.json()
    assert (updated["status"], updated["classification"], updated["determination"]) == (
        "Resolved",
        "TruePositive",
        "Malware",
    )
    assert updated["resolvedTime"] and updated["comments"][0]["comment"] == "done"
    assert updated["assignedTo"] == alert[0]["assignedTo"]  # omitted properties keep their values
    r = api.post(
        "/api/alerts/batchUpdate", {"alertIds": [a["id"] for a in alert], "assignedTo": "soc@contoso.com"}
    )
    assert r.status_code == 200 and r.content == b""
    assert all(api.get(f"/api/alerts/{a['id']}").json()["assignedTo"] == "soc@contoso.com" for a in alert)


def test_alert_bad_input(api: Api) -> None:
    alert_id = api.get("/api/alerts?$top=1").json()["value"][0]["id"]
    cases: list[tuple[str, Any, str]] = [
        (f"/api/alerts/{alert_id}", {"Status": "Resolved"}, "InvalidRequestBody"),
        (f"/api/alerts/{alert_id}", {"status": "Closed"}, "InvalidInput"),
        (f"/api/alerts/{alert_id}", {"classification": "Bogus"}, "InvalidInput"),
        (f"/api/alerts/{alert_id}", "not an object", "InvalidRequestBody"),
    ]
    for path, body, code in cases:
        r = api.patch(path, body)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (body, r.text)
    assert api.patch("/api/alerts/nope", {"status": "New"}).status_code == 404
    r = api.post("/api/alerts/batchUpdate", {"status": "New"})
    assert r.json()["error"] == {
        "code": "MissingRequiredParameter",
        "message": "Parameter alertIds is missing.",
        "target": r.headers["request-id"],
    }
    r = api.post("/api/alerts/batchUpdate", {"alertIds": ["x"] * 501})
    assert r.json()["error"]["code"] == "MaximumBatchSizeExceeded"


def test_related_entities_are_consistent(api: Api) -> None:
    alert = next(
        a
        for a in api.get("/api/alerts?$expand=evidence").json()["value"]
        if any(e["entityType"] == "Ip" for e in a["evidence"]) and a["relatedUser"]
    )
    ips = api.get(f"/api/alerts/{alert['id']}/ips").json()
    ip = next(e["ipAddress"] for e in alert["evidence"] if e["entityType"] == "Ip")
    assert ips["@odata.context"].endswith("#Ips") and {"id": ip} in ips["value"]
    domains = api.get(f"/api/alerts/{alert['id']}/domains").json()["value"]
    assert domains and set(domains[0]) == {"host"}
    files = api.get(f"/api/alerts/{alert['id']}/files").json()["value"]
    sha1 = next(e["sha1"] for e in alert["evidence"] if e["entityType"] == "File")
    assert [f["sha1"] for f in files] == [sha1]
    machine = api.get(f"/api/alerts/{alert['id']}/machine").json()
    assert machine["id"] == alert["machineId"] and machine["@odata.context"].endswith("#Machines/$entity")
    user = api.get(f"/api/alerts/{alert['id']}/user").json()
    assert user["accountName"] == alert["relatedUser"]["userName"]
    # the reverse lookups find the alert again
    assert alert["id"] in [a["id"] for a in api.get(f"/api/ips/{ip}/alerts").json()["value"]]
    assert alert["id"] in [a["id"] for a in api.get(f"/api/files/{sha1}/alerts").json()["value"]]
    user_alerts = api.get(f"/api/users/{user['accountName']}/alerts").json()["value"]
    assert alert["id"] in [a["id"] for a in user_alerts]
    assert alert["machineId"] in [m["id"] for m in api.get(f"/api/files/{sha1}/machines").json()["value"]]
    stats = api.get(f"/api/ips/{ip}/stats").json()
    assert stats["ipAddress"] == ip and stats["organizationPrevalence"] >= 1
    # a type, not an entity set: no /$entity (get-ip-statistics example)
    assert stats["@odata.context"].endswith("/api/$metadata#microsoft.windowsDefenderATP.api.InOrgIPStats")
    sha1_stats = api.get(f"/api/files/{sha1}/stats").json()
    # both spellings, text and number, as a real capture shows them (the docs show orgPrevalence "3")
    assert sha1_stats["orgPrevalence"] == str(sha1_stats["organizationPrevalence"])
    assert api.get(f"/api/domains/{domains[0]['host']}/stats").json()["organizationPrevalence"] >= 1
    assert api.get("/api/ips/999.1.1.1/alerts").json()["error"]["code"] == "InvalidIpAddress"
    assert api.get("/api/ips/203.0.113.9/stats").json()["organizationPrevalence"] == 0
    assert api.get("/api/domains/unknown.example/alerts").json()["value"] == []
    assert api.get("/api/files/" + "0" * 40).status_code == 404
    for suffix in ("", "/stats", "/alerts", "/machines"):  # a malformed hash, on every file endpoint
        r = api.get(f"/api/files/not-a-hash{suffix}")
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidHashValue", (suffix, r.text)
    assert "md5" not in api.get(f"/api/files/{sha1}").json()  # as the get-file-information example
    assert api.get(f"/api/files/{sha1}").json()["sha1"] == sha1


def test_create_alert_by_reference(api: Api) -> None:
    # the event as advanced hunting shows it (the page: "as obtained from advanced hunting")
    query = "DeviceProcessEvents | take 1 | project Timestamp, DeviceId, ReportId"
    hunted = api.post("/api/advancedqueries/run", {"Query": query})
    assert hunted.status_code == 200, hunted.text
    event = hunted.json()["Results"][0]
    m = api.get(f"/api/machines/{event['DeviceId']}").json()
    body = {
        "machineId": m["id"],
        "severity": "High",
        "title": "Custom",
        "description": "d",
        "recommendedAction": "r",
        "eventTime": event["Timestamp"],
        "reportId": event["ReportId"],  # a number, as hunting gives it (its text works as well)
        "category": "Exploit",
    }
    r = api.post("/api/alerts/CreateAlertByReference", body)
    assert r.status_code == 200, r.text
    created = r.json()
    as_text = api.post("/api/alerts/CreateAlertByReference", {**body, "reportId": str(body["reportId"])})
    assert as_text.status_code == 200
    # an event that does not exist: 404
    for missing in ({"reportId": 987654321987}, {"eventTime": "2001-01-01T00:00:00Z"}):
        r = api.post("/api/alerts/CreateAlertByReference", {**body, **missing})
        assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound", r.text
    assert (created["title"], created["machineId"], created["status"]) == ("Custom", m["id"], "New")
    assert api.get(f"/api/alerts/{created['id']}").status_code == 200
    assert api.post("/api/alerts/CreateAlertByReference", {**body, "machineId": "none"}).status_code == 404
    assert api.post("/api/alerts/CreateAlertByReference", {**body, "category": "Bad"}).status_code == 400
    r = api.post("/api/alerts/CreateAlertByReference", {k: v for k, v in body.items() if k != "title"})
    assert r.json()["error"]["message"] == "Parameter title is missing."


def test_machine_get_by_id_or_name_and_key_order(api: Api) -> None:
    m = api.get("/api/machines?$top=1").json()["value"][0]
    assert list(m) == MACHINE_KEYS
    by_name = api.get(f"/api/machines/{m['computerDnsName']}").json()
    short = api.get(f"/api/machines/{m['computerDnsName'].split('.')[0].upper()}").json()
    assert by_name["id"] == short["id"] == m["id"]
    r = api.get("/api/machines/unknown-box")
    assert r.status_code == 404 and r.json()["error"]["message"] == "Machine unknown-box was not found"


def test_machine_tags_and_value(api: Api) -> None:
    ms = api.get("/api/machines?$top=3").json()["value"]
    m = ms[0]
    r = api.post(f"/api/machines/{m['id']}/tags", {"Value": "Quarantine-Zone", "Action": "Add"})
    assert "Quarantine-Zone" in r.json()["machineTags"]
    found = api.get("/api/machines/findbytag?tag=quarantine-zone").json()["value"]
    assert [x["id"] for x in found] == [m["id"]]
    assert api.get("/api/machines/findbytag?tag=Quarantine&useStartsWithFilter=true").json()["value"]
    assert (
        api.get("/api/machines?$filter=machineTags eq 'Quarantine-Zone'").json()["value"][0]["id"] == m["id"]
    )
    r = api.post(f"/api/machines/{m['id']}/tags", {"Value": "Quarantine-Zone", "Action": "Remove"})
    assert "Quarantine-Zone" not in r.json()["machineTags"]
    r = api.post(
        "/api/machines/AddOrRemoveTagForMultipleMachines",
        {"Value": "Bulk", "Action": "Add", "MachineIds": [x["id"] for x in ms]},
    )
    assert r.status_code == 200 and all("Bulk" in x["machineTags"] for x in r.json()["value"])
    r = api.patch(f"/api/machines/{m['id']}", {"machineTags": ["Only"], "deviceValue": "High"})
    assert (r.json()["machineTags"], r.json()["deviceValue"]) == (["Only"], "High")
    r = api.post(f"/api/machines/{m['id']}/setDeviceValue", {"DeviceValue": "Low"})
    assert r.json()["deviceValue"] == "Low"
    assert api.post(f"/api/machines/{m['id']}/setDeviceValue", {"DeviceValue": "Crown"}).status_code == 400
    assert api.post(f"/api/machines/{m['id']}/tags", {"Value": "x", "Action": "Toggle"}).status_code == 400
    assert api.post(f"/api/machines/{m['id']}/tags", {"value": "x", "action": "Add"}).status_code == 400


def test_find_by_ip_logon_users_and_alert_count(api: Api, state: EmulatorState) -> None:
    m = api.get("/api/machines?$filter=healthStatus eq 'Active'&$top=1").json()["value"][0]
    seen = m["lastSeen"][:19] + "Z"
    found = api.get(f"/api/machines/findbyip(ip='{m['lastIpAddress']}',timestamp={seen})").json()["value"]
    assert m["id"] in [x["id"] for x in found]
    r = api.get(f"/api/machines/findbyip(ip='{m['lastIpAddress']}',timestamp=2001-01-01T00:00:00Z)")
    assert r.status_code == 400
    users = api.get(f"/api/machines/{m['id']}/logonusers").json()
    assert users["@odata.context"].endswith("#Users") and users["value"]
    alerts = api.get(f"/api/machines/{m['id']}/alerts").json()["value"]
    count = api.get(f"/api/machines/{m['id']}/alerts/$count")
    assert count.text == str(len(alerts))
    open_count = api.get(f"/api/machines/{m['id']}/alerts/$count?$filter=status ne 'Resolved'").text
    assert int(open_count) == sum(a["status"] != "Resolved" for a in alerts)


def test_investigations(api: Api) -> None:
    body = api.get("/api/investigations?$filter=state ne 'Benign'&$top=5").json()
    assert body["@odata.context"].endswith("#Investigations")
    inv = body["value"][0]
    assert list(inv) == [
        "id",
        "startTime",
        "endTime",
        "state",
        "cancelledBy",
        "statusDetails",
        "machineId",
        "computerDnsName",
        "triggeringAlertId",
    ]
    by_alert = api.get(f"/api/investigations/{inv['triggeringAlertId']}").json()
    assert by_alert["id"] == inv["id"]
    assert api.get(f"/api/alerts/{inv['triggeringAlertId']}").json()["investigationId"] == int(inv["id"])
    assert api.get("/api/investigations/123456789").status_code == 404
