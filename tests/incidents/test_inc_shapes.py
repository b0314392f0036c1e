"""Answer shapes (the docs' examples' keys and order) and the typed models reading them."""

from __future__ import annotations

from typing import Any

from incident_helpers import Sec

from mdekit.models import (
    AlertEvidence,
    DeviceEvidence,
    FileEvidence,
    GraphAlert,
    GraphIncident,
    Incident,
    IpEvidence,
    ProcessEvidence,
    UrlEvidence,
    UserEvidence,
)

XDR_INCIDENT_KEYS = [
    "@odata.context", "incidentId", "redirectIncidentId", "incidentName", "createdTime", "lastUpdateTime",
    "assignedTo", "classification", "determination", "status", "severity", "tags", "comments", "alerts",
]  # fmt: skip
GRAPH_INCIDENT_KEYS = [
    "@odata.type", "id", "incidentWebUrl", "redirectIncidentId", "tenantId", "displayName", "createdDateTime",
    "lastUpdateDateTime", "assignedTo", "classification", "determination", "status", "severity", "customTags",
    "comments", "systemTags", "description",
]  # fmt: skip


def _network_alert(sec: Sec) -> dict[str, Any]:
    alerts = sec.mde.get("/api/alerts?$expand=evidence").json()["value"]
    return next(a for a in alerts if {e["entityType"] for e in a["evidence"]} >= {"Ip", "Url", "User"})


def test_xdr_incident_shape(sec: Sec) -> None:
    incident = sec.xdr.get("/api/incidents?$top=1").json()["value"][0]
    one = sec.xdr.get(f"/api/incidents/{incident['incidentId']}").json()
    assert list(one) == XDR_INCIDENT_KEYS
    alert = one["alerts"][0]
    assert alert["serviceSource"] == "MicrosoftDefenderATP" and alert["alertId"].startswith("da")
    assert list(alert["devices"][0])[:3] == ["mdatpDeviceId", "aadDeviceId", "deviceDnsName"]
    assert all(
        len(e) == 31 and e["deviceId"] == alert["devices"][0]["mdatpDeviceId"] for e in alert["entities"]
    )
    untriaged = sec.xdr.get("/api/incidents?$filter=status eq 'Active'&$top=1").json()["value"][0]
    assert (untriaged["classification"], untriaged["determination"]) == ("Unknown", "NotAvailable")
    model = Incident.model_validate(one)
    assert model.incident_id == one["incidentId"] and model.alerts[0].devices[0].mdatp_device_id


def test_graph_incident_shape_and_model(sec: Sec) -> None:
    listed = sec.graph.get("/v1.0/security/incidents?$top=1&$expand=alerts").json()["value"][0]
    assert list(listed) == [*GRAPH_INCIDENT_KEYS, "alerts"]
    assert (
        listed["incidentWebUrl"]
        == f"https://security.microsoft.com/incidents/{listed['id']}?tid={sec.tenant}"
    )
    one = sec.graph.get(f"/v1.0/security/incidents/{listed['id']}").json()
    assert one["@odata.context"].endswith("$metadata#security/incidents/$entity")
    assert list(one)[1:] == GRAPH_INCIDENT_KEYS
    model = GraphIncident.model_validate(listed)
    assert model.id == listed["id"] and model.alerts and model.alerts[0].incident_id == listed["id"]
    assert model.to_wire()["@odata.type"] == "#microsoft.graph.security.incident"


def test_graph_alert_evidence_is_polymorphic(sec: Sec) -> None:
    mde = _network_alert(sec)
    alert = sec.graph.get(f"/v1.0/security/alerts_v2/{mde['id']}").json()
    kinds = [e["@odata.type"].rsplit(".", 1)[1] for e in alert["evidence"]]
    assert kinds == [
        "deviceEvidence",
        "fileEvidence",
        "processEvidence",
        "ipEvidence",
        "urlEvidence",
        "userEvidence",
    ]
    device, file, process, ip, url, user = alert["evidence"]
    assert device["mdeDeviceId"] == mde["machineId"] and device["deviceDnsName"] == mde["computerDnsName"]
    assert list(device)[:6] == [
        "@odata.type",
        "createdDateTime",
        "verdict",
        "remediationStatus",
        "remediationStatusDetails",
        "firstSeenDateTime",
    ]
    sources = {e["entityType"]: e for e in mde["evidence"]}
    assert file["fileDetails"]["sha1"] == sources["File"]["sha1"] and file["detectionStatus"] == "detected"
    assert process["processId"] == sources["Process"]["processId"]
    assert process["imageFile"]["fileName"] == sources["Process"]["fileName"]
    assert process["userAccount"]["accountName"] == sources["User"]["accountName"]
    assert ip["ipAddress"] == sources["Ip"]["ipAddress"] and url["url"] == sources["Url"]["url"]
    assert user["userAccount"]["userSid"] == sources["User"]["userSid"]
    model = GraphAlert.model_validate(alert)
    assert [type(e) for e in model.evidence] == [
        DeviceEvidence,
        FileEvidence,
        ProcessEvidence,
        IpEvidence,
        UrlEvidence,
        UserEvidence,
    ]
    written = model.to_wire()["evidence"]  # each item keeps its own type's fields when written back
    assert (
        written[0]["mdeDeviceId"] == device["mdeDeviceId"]
        and written[0]["@odata.type"] == device["@odata.type"]
    )
    assert written[1]["fileDetails"] == file["fileDetails"] and written[3]["ipAddress"] == ip["ipAddress"]


def test_models_keep_unknown_fields_and_unknown_evidence_types() -> None:
    wire = {
        "@odata.type": "#microsoft.graph.security.alert",
        "id": "da1_2",
        "brandNew": {"x": 1},
        "evidence": [
            {"@odata.type": "#microsoft.graph.security.mailboxEvidence", "primaryAddress": "a@contoso.com"},
            {
                "@odata.type": "#microsoft.graph.security.ipEvidence",
                "ipAddress": "10.0.0.1",
                "osBuild": "odd",
            },
        ],
        "createdDateTime": "not a time",
    }
    alert = GraphAlert.model_validate(wire)
    assert alert.model_extra == {"brandNew": {"x": 1}}
    mailbox, ip = alert.evidence
    assert type(mailbox) is AlertEvidence and mailbox.model_extra == {"primaryAddress": "a@contoso.com"}
    assert isinstance(ip, IpEvidence) and ip.ip_address == "10.0.0.1"
    assert alert.created_date_time == "not a time"  # kept as text when it is not a time
    incident = Incident.model_validate({"incidentId": 7, "severity": {"odd": 1}, "newField": True})
    assert incident.incident_id == 7 and incident.severity is None
    assert incident.model_extra == {"severity": {"odd": 1}, "newField": True}
