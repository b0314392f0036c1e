"""The service's enumerations (service-facts §4) and each list's filterable properties (§5.1)."""

from __future__ import annotations

from mdekit.catalog import INCIDENT_DETERMINATIONS, INVESTIGATION_STATES
from mdekit.emulator.defender.odata import Field

__all__ = [
    "ACTION_FIELDS",
    "ACTION_STATUS",
    "ACTION_TYPES",
    "ALERT_CATEGORIES",
    "ALERT_FIELDS",
    "ALERT_KEYS",
    "ALERT_STATUS",
    "CLASSIFICATIONS",
    "DETERMINATIONS",
    "DEVICE_VALUES",
    "EVIDENCE_KEYS",
    "EXPOSURE_LEVELS",
    "HEALTH_STATUS",
    "INDICATOR_ACTIONS",
    "INDICATOR_FIELDS",
    "INDICATOR_TYPES",
    "INVESTIGATION_FIELDS",
    "INVESTIGATION_STATES",
    "MACHINE_FIELDS",
    "ONBOARDING_STATUS",
    "RISK_SCORES",
    "SEVERITIES",
]

SEVERITIES = ("UnSpecified", "Informational", "Low", "Medium", "High")
ALERT_STATUS = ("Unknown", "New", "InProgress", "Resolved")
CLASSIFICATIONS = ("TruePositive", "InformationalExpectedActivity", "FalsePositive")
# The catalogue's determinations plus the other spellings the MDE docs use (service-facts §4.1,
# open question 7): both are accepted.
DETERMINATIONS = (*INCIDENT_DETERMINATIONS[1:], "ConfirmedActivity", "NotMalicious")
ALERT_CATEGORIES = (
    "General",
    "CommandAndControl",
    "Collection",
    "CredentialAccess",
    "DefenseEvasion",
    "Discovery",
    "Exfiltration",
    "Exploit",
    "Execution",
    "InitialAccess",
    "LateralMovement",
    "Malware",
    "Persistence",
    "PrivilegeEscalation",
    "Ransomware",
    "SuspiciousActivity",
)
HEALTH_STATUS = (
    "Active",
    "Inactive",
    "ImpairedCommunication",
    "NoSensorData",
    "NoSensorDataImpairedCommunication",
    "Unknown",
)
RISK_SCORES = ("None", "Informational", "Low", "Medium", "High")
EXPOSURE_LEVELS = ("None", "Low", "Medium", "High")
DEVICE_VALUES = ("Normal", "Low", "High")
ONBOARDING_STATUS = ("Onboarded", "CanBeOnboarded", "Unsupported", "InsufficientInfo")
ACTION_TYPES = (
    "RunAntiVirusScan",
    "Offboard",
    "LiveResponse",
    "CollectInvestigationPackage",
    "Isolate",
    "Unisolate",
    "StopAndQuarantineFile",
    "RestrictCodeExecution",
    "UnrestrictCodeExecution",
)
ACTION_STATUS = ("Pending", "InProgress", "Succeeded", "Failed", "TimeOut", "Cancelled")
INDICATOR_TYPES = (
    "FileSha1",
    "FileSha256",
    "FileMd5",
    "CertificateThumbprint",
    "IpAddress",
    "DomainName",
    "Url",
)
INDICATOR_ACTIONS = ("Warn", "Block", "Audit", "Alert", "AlertAndBlock", "BlockAndRemediate", "Allowed")

ALERT_FIELDS = {
    "alertCreationTime": Field("alert_creation_time", "datetime"),
    "lastUpdateTime": Field("last_update_time", "datetime"),
    "lastEventTime": Field("last_event_time", "datetime"),
    "incidentId": Field("incident_id", "int"),
    "investigationId": Field("investigation_id", "int"),
    "id": Field("id"),
    "assignedTo": Field("assigned_to"),
    "detectionSource": Field("detection_source"),
    "status": Field("status", "enum", ALERT_STATUS),
    "severity": Field("severity", "enum", SEVERITIES),
    "category": Field("category"),
}
MACHINE_FIELDS = {
    "computerDnsName": Field("computer_dns_name"),
    "id": Field("id"),
    "version": Field("version"),
    "deviceValue": Field("device_value", "enum", DEVICE_VALUES),
    "aadDeviceId": Field("aad_device_id"),
    "machineTags": Field("machine_tags", "tags"),
    "lastSeen": Field("last_seen", "datetime"),
    "exposureLevel": Field("exposure_level", "enum", EXPOSURE_LEVELS),
    "onboardingStatus": Field("onboarding_status", "enum", ONBOARDING_STATUS),
    "lastIpAddress": Field("last_ip_address"),
    "healthStatus": Field("health_status", "enum", HEALTH_STATUS),
    "osPlatform": Field("os_platform"),
    "riskScore": Field("risk_score", "enum", RISK_SCORES),
    "rbacGroupId": Field("rbac_group_id", "int"),
}
ACTION_FIELDS = {
    "id": Field("id"),
    "status": Field("status", "enum", ACTION_STATUS),
    "machineId": Field("machine_id"),
    "type": Field("type", "enum", ACTION_TYPES),
    "requestor": Field("requestor"),
    "creationDateTimeUtc": Field("creation_time", "datetime"),
}
INDICATOR_FIELDS = {
    "application": Field("application"),
    "createdByDisplayName": Field("created_by_display_name"),
    "expirationTime": Field("expiration_time", "datetime"),
    "generateAlert": Field("generate_alert", "bool"),
    "title": Field("title"),
    "rbacGroupNames": Field("rbac_group_names", "tags"),
    "rbacGroupIds": Field("rbac_group_ids", "tags"),
    "indicatorValue": Field("indicator_value"),
    "indicatorType": Field("indicator_type", "enum", INDICATOR_TYPES),
    "creationTimeDateTimeUtc": Field("creation_time", "datetime"),
    "createdBy": Field("created_by"),
    "action": Field("action", "enum", INDICATOR_ACTIONS),
    "severity": Field("severity", "enum", SEVERITIES),
}
INVESTIGATION_FIELDS = {
    "startTime": Field("start_time", "datetime"),
    "id": Field("id"),
    "state": Field("state", "enum", INVESTIGATION_STATES),
    "machineId": Field("machine_id"),
    "triggeringAlertId": Field("triggering_alert_id"),
}

#: Evidence item keys in the real order; every key is present in answers (null when n/a).
EVIDENCE_KEYS = (
    "entityType",
    "evidenceCreationTime",
    "sha1",
    "sha256",
    "fileName",
    "filePath",
    "processId",
    "processCommandLine",
    "processCreationTime",
    "parentProcessId",
    "parentProcessCreationTime",
    "parentProcessFileName",
    "parentProcessFilePath",
    "ipAddress",
    "url",
    "registryKey",
    "registryHive",
    "registryValueType",
    "registryValue",
    "accountName",
    "domainName",
    "userSid",
    "aadUserId",
    "userPrincipalName",
    "detectionStatus",
)

#: Alert keys in the real order (service-facts §4.1); alerts are stored as value lists in this order.
ALERT_KEYS = (
    "id",
    "incidentId",
    "investigationId",
    "assignedTo",
    "severity",
    "status",
    "classification",
    "determination",
    "investigationState",
    "detectionSource",
    "detectorId",
    "category",
    "threatFamilyName",
    "title",
    "description",
    "alertCreationTime",
    "firstEventTime",
    "lastEventTime",
    "lastUpdateTime",
    "resolvedTime",
    "machineId",
    "computerDnsName",
    "rbacGroupName",
    "aadTenantId",
    "threatName",
    "mitreTechniques",
    "relatedUser",
    "loggedOnUsers",
    "comments",
    "evidence",
    "domains",
)
