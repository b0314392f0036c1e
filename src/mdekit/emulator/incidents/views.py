"""The answer shapes of the stored incidents and alerts, in each API's key order.

* :func:`xdr_incident` / :func:`xdr_alert` - Defender XDR ``/api/incidents`` (api-list-incidents
  example: alerts embedded with ``devices`` and ``entities``; every entity carries every key).
* :func:`graph_incident` / :func:`graph_alert` / :func:`graph_evidence` - Graph ``security``
  (security-list-incidents, security-list-alerts_v2 examples; evidence polymorphic by
  ``@odata.type``). A Graph alert's ``id`` is the MDE alert id (``da…``) and so is its
  ``providerAlertId``, as in the docs' examples.
"""

from __future__ import annotations

from typing import Any

from mdekit.emulator.incidents.vocab import canonical_determination, to_graph

__all__ = ["graph_alert", "graph_comment", "graph_evidence", "graph_incident", "xdr_alert", "xdr_incident"]

_PORTAL = "https://security.microsoft.com"
_NS = "#microsoft.graph.security."
#: XDR alert entity keys (api-list-incidents example order).
ENTITY_KEYS = (
    "entityType", "sha1", "sha256", "fileName", "filePath", "processId", "processCommandLine",
    "processCreationTime", "parentProcessId", "parentProcessCreationTime", "ipAddress", "url",
    "accountName", "domainName", "userSid", "aadUserId", "userPrincipalName", "mailboxDisplayName",
    "mailboxAddress", "clusterBy", "sender", "recipient", "subject", "deliveryAction", "securityGroupId",
    "securityGroupName", "registryHive", "registryKey", "registryValueType", "registryValue", "deviceId",
)  # fmt: skip
#: MDE ``detectionSource`` -> Graph ``detectionSource`` (others: ``unknown``). The docs' MDE example
#: pairs antivirus with an MDE alert; the rest of the mapping is by name (UNVERIFIED).
_DETECTION = {
    "WindowsDefenderAtp": "microsoftDefenderForEndpoint",
    "WindowsDefenderAv": "antivirus",
    "WindowsDefenderSmartScreen": "smartScreen",
    "CustomerTI": "customTi",
    "AutomatedInvestigation": "automatedInvestigation",
    "CustomDetection": "customDetection",
    "MTP": "microsoft365Defender",
    "ThreatExperts": "microsoftThreatExperts",
    "Manual": "manual",
}
_RECOMMENDED = (
    "Collect artifacts and determine scope: review the device timeline for suspicious activities around "
    "the alert, and look for the same artifacts on other devices. Contain the device if the activity is "
    "malicious, and run a full antivirus scan."
)


def _camel(value: str | None) -> str | None:
    return value[:1].lower() + value[1:] if value else value


# -- Defender XDR --------------------------------------------------------------------------------


def _xdr_device(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "mdatpDeviceId": m["id"],
        "aadDeviceId": m.get("aadDeviceId"),
        "deviceDnsName": m.get("computerDnsName"),
        "osPlatform": m.get("osPlatform"),
        "version": m.get("version"),
        "osProcessor": m.get("osProcessor"),
        "osBuild": m.get("osBuild"),
        "healthStatus": m.get("healthStatus"),
        "riskScore": m.get("riskScore"),
        "rbacGroupName": m.get("rbacGroupName"),
        "rbacGroupId": m.get("rbacGroupId"),
        "firstSeen": m.get("firstSeen"),
    }


def _xdr_entity(ev: dict[str, Any], device_id: str | None) -> dict[str, Any]:
    entity = {k: ev.get(k) for k in ENTITY_KEYS}
    entity["deviceId"] = device_id
    return entity


def xdr_alert(a: dict[str, Any], machine: dict[str, Any] | None) -> dict[str, Any]:
    """An MDE alert as an entry of an XDR incident's ``alerts``."""
    return {
        "alertId": a["id"],
        "incidentId": a["incidentId"],
        "serviceSource": "MicrosoftDefenderATP",
        "creationTime": a["alertCreationTime"],
        "lastUpdatedTime": a["lastUpdateTime"],
        "resolvedTime": a["resolvedTime"],
        "firstActivity": a["firstEventTime"],
        "lastActivity": a["lastEventTime"],
        "title": a["title"],
        "description": a["description"],
        "category": a["category"],
        "status": a["status"],
        "severity": a["severity"],
        "investigationId": a["investigationId"],
        "investigationState": a["investigationState"],
        "classification": a["classification"],
        "determination": canonical_determination(a["determination"]),
        "detectionSource": a["detectionSource"],
        "assignedTo": a["assignedTo"],
        "actorName": None,
        "threatFamilyName": a["threatFamilyName"],
        "mitreTechniques": list(a["mitreTechniques"] or []),
        "devices": [_xdr_device(machine)] if machine else [],
        "entities": [_xdr_entity(ev, a["machineId"]) for ev in a.get("evidence") or []],
    }


def xdr_incident(
    inc: dict[str, Any], alerts: list[dict[str, Any]], machines: dict[str, Any]
) -> dict[str, Any]:
    """An incident as ``/api/incidents`` answers it (not set: ``Unknown`` / ``NotAvailable``)."""
    return {
        "incidentId": inc["id"],
        "redirectIncidentId": inc["redirectIncidentId"],
        "incidentName": inc["name"],
        "createdTime": inc["createdTime"],
        "lastUpdateTime": inc["lastUpdateTime"],
        "assignedTo": inc["assignedTo"],
        "classification": inc["classification"] or "Unknown",
        "determination": inc["determination"] or "NotAvailable",
        "status": inc["status"],
        "severity": inc["severity"],
        "tags": list(inc["tags"]),
        "comments": list(inc["comments"]),
        "alerts": [xdr_alert(a, machines.get((a["machineId"] or "").lower())) for a in alerts],
    }


# -- Microsoft Graph -----------------------------------------------------------------------------


def graph_comment(c: dict[str, Any]) -> dict[str, Any]:
    """A stored comment (``comment``, ``createdBy``, ``createdTime``) as Graph's ``alertComment``."""
    return {
        "comment": c.get("comment"),
        "createdByDisplayName": c.get("createdBy"),
        "createdDateTime": c.get("createdTime"),
    }


def graph_incident(
    inc: dict[str, Any], tenant: str, alerts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An incident as ``security/incidents`` answers it (``alerts`` only with ``$expand=alerts``)."""
    iid = str(inc["id"])
    out: dict[str, Any] = {
        "@odata.type": f"{_NS}incident",
        "id": iid,
        "incidentWebUrl": f"{_PORTAL}/incidents/{iid}?tid={tenant}",
        "redirectIncidentId": str(inc["redirectIncidentId"]) if inc["redirectIncidentId"] else None,
        "tenantId": tenant,
        "displayName": inc["name"],
        "createdDateTime": inc["createdTime"],
        "lastUpdateDateTime": inc["lastUpdateTime"],
        "assignedTo": inc["assignedTo"],
        "classification": to_graph("classification", inc["classification"]),
        "determination": to_graph("determination", inc["determination"]),
        "status": to_graph("status", inc["status"]),
        "severity": to_graph("severity", inc["severity"]),
        "customTags": list(inc["tags"]),
        "comments": [graph_comment(c) for c in inc["comments"]],
        "systemTags": [],
        "description": None,
    }
    if alerts is not None:
        out["alerts"] = alerts
    return out


def graph_alert(a: dict[str, Any], machine: dict[str, Any] | None, tenant: str) -> dict[str, Any]:
    """An MDE alert as ``security/alerts_v2`` answers it."""
    return {
        "@odata.type": f"{_NS}alert",
        "id": a["id"],
        "providerAlertId": a["id"],
        "incidentId": str(a["incidentId"]) if a["incidentId"] is not None else None,
        "status": to_graph("status", a["status"]),
        "severity": to_graph("severity", a["severity"]),
        "classification": to_graph("classification", a["classification"]),
        "determination": to_graph("determination", a["determination"]),
        "serviceSource": "microsoftDefenderForEndpoint",
        "detectionSource": _DETECTION.get(a["detectionSource"] or "", "unknown"),
        "detectorId": a["detectorId"],
        "tenantId": tenant,
        "title": a["title"],
        "description": a["description"],
        "recommendedActions": _RECOMMENDED,
        "category": a["category"],
        "assignedTo": a["assignedTo"],
        "alertWebUrl": f"{_PORTAL}/alerts/{a['id']}?tid={tenant}",
        "incidentWebUrl": f"{_PORTAL}/incidents/{a['incidentId']}?tid={tenant}",
        "actorDisplayName": None,
        "threatDisplayName": a["threatName"],
        "threatFamilyName": a["threatFamilyName"],
        "mitreTechniques": list(a["mitreTechniques"] or []),
        "createdDateTime": a["alertCreationTime"],
        "lastUpdateDateTime": a["lastUpdateTime"],
        "resolvedDateTime": a["resolvedTime"],
        "firstActivityDateTime": a["firstEventTime"],
        "lastActivityDateTime": a["lastEventTime"],
        "comments": [graph_comment(c) for c in a["comments"] or []],
        "evidence": graph_evidence(a, machine),
        "systemTags": [],
    }


def _head(kind: str, when: str | None) -> dict[str, Any]:
    """The ``alertEvidence`` keys every item starts with (docs' example order)."""
    return {
        "@odata.type": f"{_NS}{kind}",
        "createdDateTime": when,
        "verdict": "unknown",
        "remediationStatus": "none",
        "remediationStatusDetails": None,
    }


def _roles(
    roles: list[str] | None = None, detailed: list[str] | None = None, tags: list[str] | None = None
) -> dict[str, Any]:
    return {"roles": roles or [], "detailedRoles": detailed or [], "tags": tags or []}


def _file_details(sha1: Any, sha256: Any, name: Any, path: Any) -> dict[str, Any]:
    return {
        "sha1": sha1,
        "sha256": sha256,
        "fileName": name,
        "filePath": path,
        "fileSize": None,
        "filePublisher": None,
        "signer": None,
        "issuer": None,
    }


def _user_account(ev: dict[str, Any] | None) -> dict[str, Any] | None:
    if not ev:
        return None
    return {
        "accountName": ev.get("accountName"),
        "domainName": ev.get("domainName"),
        "userSid": ev.get("userSid"),
        "azureAdUserId": ev.get("aadUserId"),
        "userPrincipalName": ev.get("userPrincipalName"),
        "displayName": ev.get("accountName"),
    }


def _device(a: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    ips = [i["ipAddress"] for i in m.get("ipAddresses") or [] if i.get("type") != "SoftwareLoopback"]
    users = [
        {"accountName": u.get("accountName"), "domainName": u.get("domainName")}
        for u in a.get("loggedOnUsers") or []
    ]
    return {
        **_head("deviceEvidence", a["alertCreationTime"]),
        "firstSeenDateTime": m.get("firstSeen"),
        "mdeDeviceId": m["id"],
        "azureAdDeviceId": m.get("aadDeviceId"),
        "deviceDnsName": m.get("computerDnsName"),
        "osPlatform": m.get("osPlatform"),
        "osBuild": m.get("osBuild"),
        "version": m.get("version"),
        "healthStatus": _camel(m.get("healthStatus")),
        "riskScore": (m.get("riskScore") or "none").lower(),
        "rbacGroupId": m.get("rbacGroupId"),
        "rbacGroupName": m.get("rbacGroupName"),
        "onboardingStatus": _camel(m.get("onboardingStatus")),
        "defenderAvStatus": _camel(m.get("defenderAvStatus")),
        "ipInterfaces": ips,
        "loggedOnUsers": users,
        **_roles(["compromised"], ["Main device"], list(m.get("machineTags") or [])),
        "vmMetadata": m.get("vmMetadata"),
    }


def _file(ev: dict[str, Any], device: str | None) -> dict[str, Any]:
    return {
        **_head("fileEvidence", ev.get("evidenceCreationTime")),
        "detectionStatus": _camel(ev.get("detectionStatus")),
        "mdeDeviceId": device,
        **_roles(),
        "fileDetails": _file_details(
            ev.get("sha1"), ev.get("sha256"), ev.get("fileName"), ev.get("filePath")
        ),
    }


def _process(ev: dict[str, Any], device: str | None, user: dict[str, Any] | None) -> dict[str, Any]:
    return {
        **_head("processEvidence", ev.get("evidenceCreationTime")),
        "processId": ev.get("processId"),
        "parentProcessId": ev.get("parentProcessId"),
        "processCommandLine": ev.get("processCommandLine"),
        "processCreationDateTime": ev.get("processCreationTime"),
        "parentProcessCreationDateTime": ev.get("parentProcessCreationTime"),
        "detectionStatus": _camel(ev.get("detectionStatus")),
        "mdeDeviceId": device,
        **_roles(),
        "imageFile": _file_details(ev.get("sha1"), ev.get("sha256"), ev.get("fileName"), ev.get("filePath")),
        "parentProcessImageFile": _file_details(
            None, None, ev.get("parentProcessFileName"), ev.get("parentProcessFilePath")
        ),
        "userAccount": _user_account(user),
    }


def _registry(ev: dict[str, Any], device: str | None) -> dict[str, Any]:
    when = ev.get("evidenceCreationTime")
    if ev.get("registryValue") is None:
        return {**_head("registryKeyEvidence", when), "registryKey": ev.get("registryKey"),
                "registryHive": ev.get("registryHive"), **_roles()}  # fmt: skip
    return {
        **_head("registryValueEvidence", when),
        **_roles(),
        "mdeDeviceId": device,
        "registryKey": ev.get("registryKey"),
        "registryHive": ev.get("registryHive"),
        "registryValue": ev.get("registryValue"),
        "registryValueName": ev.get("registryValueName"),
        "registryValueType": ev.get("registryValueType"),
    }


def _item(ev: dict[str, Any], device: str | None, user: dict[str, Any] | None) -> dict[str, Any] | None:
    kind, when = ev.get("entityType"), ev.get("evidenceCreationTime")
    if kind == "File":
        return _file(ev, device)
    if kind == "Process":
        return _process(ev, device, user)
    if kind == "Registry":
        return _registry(ev, device)
    if kind == "Ip":
        return {
            **_head("ipEvidence", when),
            **_roles(),
            "ipAddress": ev.get("ipAddress"),
            "countryLetterCode": None,
        }
    if kind == "Url":
        return {**_head("urlEvidence", when), **_roles(), "url": ev.get("url")}
    if kind == "User":
        return {**_head("userEvidence", when), **_roles(), "userAccount": _user_account(ev)}
    return None  # an entity type without a Graph evidence type here (none is seeded)


def graph_evidence(a: dict[str, Any], machine: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The alert's device (from its machine) and its MDE evidence as Graph ``alertEvidence`` items."""
    evidence = a.get("evidence") or []
    user = next((ev for ev in evidence if ev.get("entityType") == "User"), None)
    out = [_device(a, machine)] if machine else []
    for ev in evidence:
        item = _item(ev, a["machineId"], user)
        if item is not None:
            out.append(item)
    return out
