"""The service's enumerations: the catalogue's value lists (service-facts §4, §3.3).

Part of the catalogue (:mod:`mdekit.catalog` holds the operations; it re-exports
:data:`INVESTIGATION_STATES`). The emulator validates request bodies and ``$filter`` values against
these lists; the CLI checks its options against them before a request is sent. Add a value here,
never in a command or a route.
"""

from __future__ import annotations

__all__ = [
    "ACTION_STATUS",
    "ACTION_TYPES",
    "ALERT_CATEGORIES",
    "ALERT_STATUS",
    "ALERT_UPDATE_STATUS",
    "CLASSIFICATIONS",
    "DETERMINATIONS",
    "DEVICE_VALUES",
    "EXPOSURE_LEVELS",
    "GRAPH_ALERT_STATUSES",
    "GRAPH_CLASSIFICATIONS",
    "GRAPH_DETERMINATIONS",
    "GRAPH_INCIDENT_STATUSES",
    "GRAPH_SERVICE_SOURCES",
    "GRAPH_SEVERITIES",
    "HEALTH_STATUS",
    "INCIDENT_CLASSIFICATIONS",
    "INCIDENT_DETERMINATIONS",
    "INCIDENT_STATUSES",
    "INDICATOR_ACTIONS",
    "INDICATOR_TYPES",
    "INVESTIGATION_STATES",
    "ISOLATION_TYPES",
    "ONBOARDING_STATUS",
    "OS_PLATFORMS",
    "RISK_SCORES",
    "SCAN_TYPES",
    "SETTABLE_SEVERITIES",
    "SEVERITIES",
    "TVM_SEVERITIES",
]

# -- alerts (§4.1) ---------------------------------------------------------------------------------
SEVERITIES = ("UnSpecified", "Informational", "Low", "Medium", "High")
#: What a caller may give (alert by reference, indicators): every severity but ``UnSpecified``.
SETTABLE_SEVERITIES = SEVERITIES[1:]
ALERT_STATUS = ("Unknown", "New", "InProgress", "Resolved")
#: What an alert update (PATCH / batchUpdate) may set: ``Unknown`` is never settable.
ALERT_UPDATE_STATUS = ("New", "InProgress", "Resolved")
CLASSIFICATIONS = ("TruePositive", "InformationalExpectedActivity", "FalsePositive")
# Both spellings the docs use are accepted (service-facts §4.1, open question 7).
DETERMINATIONS = (
    "MultiStagedAttack",
    "MaliciousUserActivity",
    "CompromisedUser",
    "Malware",
    "Phishing",
    "UnwantedSoftware",
    "SecurityTesting",
    "LineOfBusinessApplication",
    "ConfirmedUserActivity",
    "ConfirmedActivity",
    "Clean",
    "NotMalicious",
    "InsufficientData",
    "Other",
)
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

# -- machines (§4.2) -------------------------------------------------------------------------------
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
#: ``osPlatform`` values the docs and captures show (§4.2). An open set on the real service
#: (UNVERIFIED beyond these): nothing refuses other values; the emulator seeds only these.
OS_PLATFORMS = (
    "Windows10",
    "Windows11",
    "WindowsServer2016",
    "WindowsServer2019",
    "WindowsServer2022",
    "Linux",
    "macOS",
)

# -- machine actions (§4.3, §3.3) ------------------------------------------------------------------
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
#: ``IsolationType`` of ``POST /api/machines/{id}/isolate`` (default ``Full``).
ISOLATION_TYPES = ("Full", "Selective", "UnManagedDevice")
#: ``ScanType`` of ``POST /api/machines/{id}/runAntiVirusScan``.
SCAN_TYPES = ("Quick", "Full")

# -- indicators (§4.4) -----------------------------------------------------------------------------
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

# -- investigations (§4.5; also the alert's ``investigationState``, §4.1) --------------------------
INVESTIGATION_STATES = (
    "Unknown",
    "Terminated",
    "SuccessfullyRemediated",
    "Benign",
    "Failed",
    "PartiallyRemediated",
    "Running",
    "PendingApproval",
    "PendingResource",
    "PartiallyInvestigated",
    "TerminatedByUser",
    "TerminatedBySystem",
    "Queued",
    "InnerFailure",
    "PreexistingAlert",
    "UnsupportedOs",
    "UnsupportedAlertType",
    "SuppressedAlert",
)

#: Defender XDR incident ``status`` (api-incident, api-update-incidents; service-facts-2 §3.1).
INCIDENT_STATUSES = ("Active", "InProgress", "Resolved", "Redirected")
#: XDR incident ``classification`` as read (``Unknown`` = not set) and as written (the other three).
INCIDENT_CLASSIFICATIONS = ("Unknown", "TruePositive", "InformationalExpectedActivity", "FalsePositive")
#: XDR incident ``determination`` as read (``NotAvailable`` = not set; api-incident spelling). The update
#: page spells four of them differently (CompromisedAccount, ConfirmedActivity, NoEnoughDataToValidate,
#: and Clean's "Not malicious"); the emulator accepts both spellings and answers these.
INCIDENT_DETERMINATIONS = (
    "NotAvailable",
    "MultiStagedAttack",
    "MaliciousUserActivity",
    "CompromisedUser",
    "Malware",
    "Phishing",
    "UnwantedSoftware",
    "SecurityTesting",
    "LineOfBusinessApplication",
    "ConfirmedUserActivity",
    "Clean",
    "InsufficientData",
    "Other",
)
#: Graph ``incidentStatus`` (``awaitingAction`` needs ``Prefer: include-unknown-enum-members``).
GRAPH_INCIDENT_STATUSES = (
    "active",
    "resolved",
    "inProgress",
    "redirected",
    "unknownFutureValue",
    "awaitingAction",
)
#: Graph ``alertStatus``.
GRAPH_ALERT_STATUSES = ("unknown", "new", "inProgress", "resolved", "unknownFutureValue")
#: Graph ``alertSeverity``.
GRAPH_SEVERITIES = ("unknown", "informational", "low", "medium", "high", "unknownFutureValue")
#: Graph ``serviceSource`` (security-alert; the last two only with ``Prefer: include-unknown-enum-members``).
GRAPH_SERVICE_SOURCES = (
    "unknown",
    "microsoftDefenderForEndpoint",
    "microsoftDefenderForIdentity",
    "microsoftDefenderForCloudApps",
    "microsoftDefenderForOffice365",
    "microsoft365Defender",
    "azureAdIdentityProtection",
    "microsoftAppGovernance",
    "dataLossPrevention",
    "unknownFutureValue",
    "microsoftDefenderForCloud",
    "microsoftSentinel",
)
#: Graph ``alertClassification``.
GRAPH_CLASSIFICATIONS = (
    "unknown",
    "falsePositive",
    "truePositive",
    "informationalExpectedActivity",
    "unknownFutureValue",
)
#: Graph ``alertDetermination`` (enum list of security-alert / security-incident; the update page
#: spells clean / insufficientData as notMalicious / notEnoughDataToValidate - both accepted).
GRAPH_DETERMINATIONS = (
    "unknown",
    "apt",
    "malware",
    "securityPersonnel",
    "securityTesting",
    "unwantedSoftware",
    "other",
    "multiStagedAttack",
    "compromisedUser",
    "phishing",
    "maliciousUserActivity",
    "clean",
    "insufficientData",
    "confirmedUserActivity",
    "lineOfBusinessApplication",
    "unknownFutureValue",
)

# -- threat & vulnerability management (service-facts-2 §1) ---------------------------------------
#: Vulnerability severities (``/api/vulnerabilities``, machine and software lists, exports).
TVM_SEVERITIES = ("Low", "Medium", "High", "Critical")
