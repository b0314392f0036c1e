"""The one catalogue of facts about the real services.

Resource applications (WindowsDefenderATP, Microsoft Threat Protection, Microsoft Graph) with their
identifier URIs and application roles, and every API operation with its method, path, the
application roles that allow it (any one suffices) and its documented rate limits.

The emulator enforces this table; the client reads it for pre-flight permission checks and its
rate limiter; tests check it against ``shared/reference/service-facts.md`` (§2.5, §3.3, §5.3).
The services' enumerations (severities, statuses, action types, ...) live beside it in
:mod:`mdekit.enums`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from mdekit.enums import (  # the incident and Graph vocabularies live with the other enums
    GRAPH_ALERT_STATUSES,
    GRAPH_CLASSIFICATIONS,
    GRAPH_DETERMINATIONS,
    GRAPH_INCIDENT_STATUSES,
    GRAPH_SERVICE_SOURCES,
    GRAPH_SEVERITIES,
    INCIDENT_CLASSIFICATIONS,
    INCIDENT_DETERMINATIONS,
    INCIDENT_STATUSES,
    INVESTIGATION_STATES,  # re-exported: the enumerations live in mdekit.enums
)

__all__ = [
    "GRAPH",
    "GRAPH_ALERT_STATUSES",
    "GRAPH_CLASSIFICATIONS",
    "GRAPH_DETERMINATIONS",
    "GRAPH_INCIDENT_STATUSES",
    "GRAPH_SERVICE_SOURCES",
    "GRAPH_SEVERITIES",
    "INCIDENT_CLASSIFICATIONS",
    "INCIDENT_DETERMINATIONS",
    "INCIDENT_STATUSES",
    "INVESTIGATION_STATES",
    "MDE",
    "MTP",
    "OPERATIONS",
    "RESOURCES",
    "Limit",
    "Operation",
    "ResourceApp",
    "find_operation",
    "operation",
    "resource_by_uri",
    "resource_named",
]


@dataclass(frozen=True)
class ResourceApp:
    """A first-party resource application that app-only tokens are issued for."""

    name: str
    app_id: str
    identifier_uris: tuple[str, ...]
    roles: tuple[str, ...]
    role_descriptions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


_MDE_ROLES = (
    "AdvancedQuery.Read.All",
    "Alert.Read.All",
    "Alert.ReadWrite.All",
    "Event.Write",
    "File.Read.All",
    "IntegrationConfiguration.ReadWrite",
    "Ip.Read.All",
    "Library.Manage",
    "Machine.CollectForensics",
    "Machine.Isolate",
    "Machine.LiveResponse",
    "Machine.Offboard",
    "Machine.Read.All",
    "Machine.ReadWrite.All",
    "Machine.RestrictExecution",
    "Machine.Scan",
    "Machine.StopAndQuarantine",
    "RemediationTasks.Read.All",
    "Score.Read.All",
    "SecurityBaselinesAssessment.Read.All",
    "SecurityConfiguration.Read.All",
    "SecurityConfiguration.ReadWrite.All",
    "SecurityRecommendation.Read.All",
    "Software.Read.All",
    "Ti.Read.All",
    "Ti.ReadWrite",
    "Ti.ReadWrite.All",
    "Url.Read.All",
    "User.Read.All",
    "Vulnerability.Read.All",
)

MDE = ResourceApp(
    name="WindowsDefenderATP",
    app_id="fc780465-2017-40d4-a0c5-307022471b92",
    identifier_uris=(
        "https://api.securitycenter.microsoft.com",
        "https://securitycenter.onmicrosoft.com/windowsatpservice",
        "https://api.securitycenter.windows.com",
        "https://api-gcc.securitycenter.microsoft.us",
        "https://api-gov.securitycenter.microsoft.us",
        "https://securitycenter.onmicrosoft.us/windowsatpservice",
    ),
    roles=_MDE_ROLES,
    role_descriptions={
        "Alert.Read.All": "Read all alerts",
        "Alert.ReadWrite.All": "Read and write all alerts",
        "Machine.Read.All": "Read all machine profiles",
        "Machine.ReadWrite.All": "Read and write all machine information",
        "Machine.Isolate": "Isolate machine",
        "Machine.Scan": "Scan machine",
        "Machine.RestrictExecution": "Restrict code execution",
        "Machine.CollectForensics": "Collect forensics",
        "Machine.StopAndQuarantine": "Stop And Quarantine",
        "Machine.Offboard": "Offboard machine",
        "Machine.LiveResponse": "Run live response on a specific machine",
        "AdvancedQuery.Read.All": "Run advanced queries",
        "Ti.ReadWrite": "Read and write Indicators",
        "Ti.ReadWrite.All": "Read and write All Indicators",
        "File.Read.All": "Read file profiles",
        "Ip.Read.All": "Read IP address profiles",
        "Url.Read.All": "Read URLs",
        "User.Read.All": "Read user profiles",
        "Library.Manage": "Manage live response library",
    },
)

#: "Microsoft Threat Protection": the Defender XDR API at api.security.microsoft.com (hunting, incidents).
MTP = ResourceApp(
    name="Microsoft Threat Protection",
    app_id="8ee8fdad-f234-4243-8f3b-15c294843740",
    identifier_uris=("https://api.security.microsoft.com",),
    roles=("AdvancedHunting.Read.All", "Incident.Read.All", "Incident.ReadWrite.All"),
)

GRAPH = ResourceApp(
    name="Microsoft Graph",
    app_id="00000003-0000-0000-c000-000000000000",
    identifier_uris=(
        "https://graph.microsoft.com",
        "https://graph.microsoft.us",
        "https://dod-graph.microsoft.us",
    ),
    roles=(
        "ThreatHunting.Read.All",
        "SecurityAlert.Read.All",
        "SecurityAlert.ReadWrite.All",
        "SecurityIncident.Read.All",
        "SecurityIncident.ReadWrite.All",
    ),
)

RESOURCES: tuple[ResourceApp, ...] = (MDE, MTP, GRAPH)


def resource_named(name: str) -> ResourceApp:
    """The resource app called *name* (``Operation.resource``); ``KeyError`` if unknown."""
    for res in RESOURCES:
        if res.name == name:
            return res
    raise KeyError(name)


def resource_by_uri(uri: str) -> ResourceApp | None:
    """The resource app whose identifier URI (or app id) is *uri*, ignoring a trailing slash and case."""
    key = uri.rstrip("/").lower()
    for res in RESOURCES:
        if key == res.app_id or key in (u.lower() for u in res.identifier_uris):
            return res
    return None


@dataclass(frozen=True)
class Limit:
    """Documented call limits for an operation; ``None`` means no limit of that period."""

    per_minute: int | None = 100
    per_hour: int | None = 1500


DEFAULT_LIMIT = Limit()


@dataclass(frozen=True)
class Operation:
    """One API operation: ``name`` is stable (``family.verb``); ``roles`` are alternatives."""

    name: str
    method: str
    path: str
    roles: tuple[str, ...]
    limit: Limit = DEFAULT_LIMIT
    resource: str = MDE.name
    #: Creates a machine action (never blindly replayed after an ambiguous failure).
    creates_action: bool = False
    #: A POST/PATCH/DELETE that may be sent again after an ambiguous failure (a query, an upsert,
    #: a replace): the client retries it like a GET. Others are retried only when the request
    #: provably never reached the service.
    idempotent: bool = False
    #: Largest ``$top`` (and page) the list accepts, where documented or chosen; ``None`` = not paged so.
    max_top: int | None = None

    @property
    def replayable(self) -> bool:
        """True if sending this operation twice has the effect of sending it once."""
        return self.method in ("GET", "HEAD", "OPTIONS") or self.idempotent

    @property
    def family(self) -> str:
        """The API family (``alerts``, ``machines``, ...) - the client's rate-limit bucket."""
        return self.name.split(".", 1)[0]

    @property
    def pattern(self) -> re.Pattern[str]:
        """Case-insensitive regex matching a concrete request path (paths are case-insensitive)."""
        return _compile(self.path)


@cache
def _compile(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    rx = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{rx}/?$", re.IGNORECASE)


_ALERT_R = ("Alert.Read.All", "Alert.ReadWrite.All")
_ALERT_W = ("Alert.ReadWrite.All",)
_MACH_R = ("Machine.Read.All", "Machine.ReadWrite.All")
_MACH_W = ("Machine.ReadWrite.All",)
_TI = ("Ti.ReadWrite", "Ti.ReadWrite.All")
_CANCEL = (
    "Machine.CollectForensics",
    "Machine.Isolate",
    "Machine.RestrictExecution",
    "Machine.Scan",
    "Machine.Offboard",
    "Machine.StopAndQuarantine",
    "Machine.LiveResponse",
)


def _op(name: str, method: str, path: str, roles: tuple[str, ...], **kw: object) -> Operation:
    return Operation(name, method, path, roles, **kw)  # type: ignore[arg-type]


_ACTION = {"creates_action": True}
_REPLAYABLE = {"idempotent": True}
# Defender XDR incidents (service-facts-2 §3.1): 50 calls/min and 1,500/h, Microsoft Threat Protection.
_INC_R = ("Incident.Read.All", "Incident.ReadWrite.All")
_INC_W = ("Incident.ReadWrite.All",)
_XDR: dict[str, object] = {"resource": MTP.name, "limit": Limit(50, 1500)}
# Graph security (service-facts-2 §3.2). Graph's throttling page gives "150 requests per minute per app
# per tenant" for any operation on `alert`; the same figure for incidents is UNVERIFIED.
_SA_R = ("SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All")
_SA_W = ("SecurityAlert.ReadWrite.All",)
_SI_R = ("SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All")
_SI_W = ("SecurityIncident.ReadWrite.All",)
_GRAPH_SEC: dict[str, object] = {"resource": GRAPH.name, "limit": Limit(150, None)}

# Threat & vulnerability management (service-facts-2 section 1.1; each checked against its page).
_VULN = ("Vulnerability.Read.All",)
_SOFT = ("Software.Read.All",)
_RECO = ("SecurityRecommendation.Read.All",)
_REMED = ("RemediationTasks.Read.All",)
_SCORE = ("Score.Read.All",)
_EXPORT = Limit(30, 1000)  # the JSON assessment exports and /deviceavinfo
_FILES = Limit(5, 20)  # the "via files" exports
_TVM = (
    _op("vulnerabilities.list", "GET", "/api/vulnerabilities", _VULN, max_top=8000),
    _op(
        "vulnerabilities.by_machine_and_software",
        "GET",
        "/api/vulnerabilities/machinesVulnerabilities",
        _VULN,
    ),
    _op("vulnerabilities.get", "GET", "/api/vulnerabilities/{id}", _VULN),
    _op("vulnerabilities.machine_references", "GET", "/api/vulnerabilities/{id}/machineReferences", _VULN),
    _op(
        "vulnerabilities.by_machine",
        "GET",
        "/api/machines/{id}/vulnerabilities",
        _VULN,
        limit=Limit(50, 1500),
    ),
    _op("software.list", "GET", "/api/Software", _SOFT),
    _op("software.get", "GET", "/api/Software/{id}", _SOFT),
    _op("software.vulnerabilities", "GET", "/api/Software/{id}/vulnerabilities", _VULN),
    _op("software.machine_references", "GET", "/api/Software/{id}/machineReferences", _SOFT),
    _op("software.distributions", "GET", "/api/Software/{id}/distributions", _SOFT),
    _op("software.missing_kbs", "GET", "/api/Software/{id}/getmissingkbs", _SOFT),
    _op("software.by_machine", "GET", "/api/machines/{id}/software", _SOFT),
    _op("software.missing_kbs_by_machine", "GET", "/api/machines/{id}/getmissingkbs", _SOFT),
    _op("recommendations.list", "GET", "/api/recommendations", _RECO),
    _op("recommendations.get", "GET", "/api/recommendations/{id}", _RECO),
    _op("recommendations.software", "GET", "/api/recommendations/{id}/software", _SOFT),
    _op("recommendations.machine_references", "GET", "/api/recommendations/{id}/machineReferences", _RECO),
    _op("recommendations.vulnerabilities", "GET", "/api/recommendations/{id}/vulnerabilities", _VULN),
    _op("recommendations.by_machine", "GET", "/api/machines/{id}/recommendations", _RECO),
    _op("remediation.list", "GET", "/api/remediationTasks", _REMED),
    _op("remediation.get", "GET", "/api/remediationTasks/{id}", _REMED),
    _op("remediation.machine_references", "GET", "/api/remediationTasks/{id}/machineReferences", _REMED),
    _op("scores.exposure", "GET", "/api/exposureScore", _SCORE),
    _op("scores.exposure_by_machine_groups", "GET", "/api/exposureScore/ByMachineGroups", _SCORE),
    _op("scores.configuration", "GET", "/api/configurationScore", _SCORE),
    _op("machines.av_health", "GET", "/api/deviceavinfo", _MACH_R[:1], limit=_EXPORT),
    _op(
        "exports.software_vulnerabilities",
        "GET",
        "/api/machines/SoftwareVulnerabilitiesByMachine",
        _VULN,
        limit=_EXPORT,
    ),
    _op(
        "exports.software_vulnerabilities_files",
        "GET",
        "/api/machines/SoftwareVulnerabilitiesExport",
        _VULN,
        limit=_FILES,
    ),
    _op(
        "exports.software_vulnerability_changes",
        "GET",
        "/api/machines/SoftwareVulnerabilityChangesByMachine",
        _VULN,
        limit=_EXPORT,
    ),
    _op(
        "exports.software_inventory", "GET", "/api/machines/SoftwareInventoryByMachine", _SOFT, limit=_EXPORT
    ),
    _op(
        "exports.software_inventory_files",
        "GET",
        "/api/machines/SoftwareInventoryExport",
        _SOFT,
        limit=_FILES,
    ),
    _op(
        "exports.secure_config",
        "GET",
        "/api/machines/SecureConfigurationsAssessmentByMachine",
        _VULN,
        limit=_EXPORT,
    ),
    _op(
        "exports.secure_config_files",
        "GET",
        "/api/machines/SecureConfigurationsAssessmentExport",
        _VULN,
        limit=_FILES,
    ),
)

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        # Alerts
        _op("alerts.list", "GET", "/api/alerts", _ALERT_R),
        _op("alerts.get", "GET", "/api/alerts/{id}", _ALERT_R),
        _op("alerts.update", "PATCH", "/api/alerts/{id}", _ALERT_W),
        _op("alerts.batch_update", "POST", "/api/alerts/batchUpdate", _ALERT_W, limit=Limit(10, 500)),
        _op(
            "alerts.create_by_reference",
            "POST",
            "/api/alerts/CreateAlertByReference",
            _ALERT_W,
            limit=Limit(15, None),
        ),
        _op("alerts.domains", "GET", "/api/alerts/{id}/domains", ("Url.Read.All",)),
        _op("alerts.files", "GET", "/api/alerts/{id}/files", ("File.Read.All",)),
        _op("alerts.ips", "GET", "/api/alerts/{id}/ips", ("Ip.Read.All",)),
        _op("alerts.machine", "GET", "/api/alerts/{id}/machine", _MACH_R),
        _op("alerts.user", "GET", "/api/alerts/{id}/user", ("User.Read.All",)),
        # Machines
        _op("machines.list", "GET", "/api/machines", _MACH_R),
        _op("machines.get", "GET", "/api/machines/{id}", _MACH_R),
        _op("machines.update", "PATCH", "/api/machines/{id}", _MACH_W, **_REPLAYABLE),  # replaces tags/value
        _op("machines.tags", "POST", "/api/machines/{id}/tags", _MACH_W),
        _op("machines.tags_bulk", "POST", "/api/machines/AddOrRemoveTagForMultipleMachines", _MACH_W),
        _op("machines.set_device_value", "POST", "/api/machines/{id}/setDeviceValue", _MACH_W, **_REPLAYABLE),
        _op("machines.find_by_ip", "GET", "/api/machines/findbyip(ip='{ip}',timestamp={timestamp})", _MACH_R),
        _op("machines.find_by_tag", "GET", "/api/machines/findbytag", _MACH_R),
        _op("machines.logon_users", "GET", "/api/machines/{id}/logonusers", ("User.Read.All",)),
        _op("machines.alerts", "GET", "/api/machines/{id}/alerts", _ALERT_R),
        _op("machines.alerts_count", "GET", "/api/machines/{id}/alerts/$count", _ALERT_R),
        # Machine actions (POST on a machine creates one)
        _op("actions.isolate", "POST", "/api/machines/{id}/isolate", ("Machine.Isolate",), **_ACTION),
        _op("actions.unisolate", "POST", "/api/machines/{id}/unisolate", ("Machine.Isolate",), **_ACTION),
        _op(
            "actions.restrict",
            "POST",
            "/api/machines/{id}/restrictCodeExecution",
            ("Machine.RestrictExecution",),
            **_ACTION,
        ),
        _op(
            "actions.unrestrict",
            "POST",
            "/api/machines/{id}/unrestrictCodeExecution",
            ("Machine.RestrictExecution",),
            **_ACTION,
        ),
        _op("actions.scan", "POST", "/api/machines/{id}/runAntiVirusScan", ("Machine.Scan",), **_ACTION),
        _op(
            "actions.collect",
            "POST",
            "/api/machines/{id}/collectInvestigationPackage",
            ("Machine.CollectForensics",),
            **_ACTION,
        ),
        _op(
            "actions.quarantine",
            "POST",
            "/api/machines/{id}/StopAndQuarantineFile",
            ("Machine.StopAndQuarantine",),
            **_ACTION,
        ),
        _op("actions.offboard", "POST", "/api/machines/{id}/offboard", ("Machine.Offboard",), **_ACTION),
        _op(
            "actions.live_response",
            "POST",
            "/api/machines/{id}/runliveresponse",
            ("Machine.LiveResponse",),
            limit=Limit(10, None),
            **_ACTION,
        ),
        _op(
            "investigations.start",
            "POST",
            "/api/machines/{id}/startInvestigation",
            _ALERT_W,
            limit=Limit(None, 50),
        ),
        _op("actions.list", "GET", "/api/machineactions", _MACH_R),
        _op("actions.get", "GET", "/api/machineactions/{id}", _MACH_R),
        _op("actions.cancel", "POST", "/api/machineactions/{id}/cancel", _CANCEL),
        _op(
            "actions.package_uri",
            "GET",
            "/api/machineactions/{id}/getPackageUri",
            _MACH_R,
            limit=Limit(2, 120),
        ),
        # Indicators
        _op("indicators.list", "GET", "/api/indicators", _TI),
        _op("indicators.submit", "POST", "/api/indicators", _TI, **_REPLAYABLE),  # upsert by value and type
        _op("indicators.import", "POST", "/api/indicators/import", _TI, limit=Limit(30, None), **_REPLAYABLE),
        _op("indicators.delete", "DELETE", "/api/indicators/{id}", _TI),
        _op("indicators.batch_delete", "POST", "/api/indicators/BatchDelete", _TI, limit=Limit(30, 1500)),
        # Files, IPs, domains, users
        _op("files.get", "GET", "/api/files/{id}", ("File.Read.All",)),
        _op("files.stats", "GET", "/api/files/{id}/stats", ("File.Read.All",)),
        _op("files.alerts", "GET", "/api/files/{id}/alerts", _ALERT_R),
        _op("files.machines", "GET", "/api/files/{id}/machines", _MACH_R),
        _op("ips.stats", "GET", "/api/ips/{id}/stats", ("Ip.Read.All",)),
        _op("ips.alerts", "GET", "/api/ips/{id}/alerts", _ALERT_R),
        _op("domains.alerts", "GET", "/api/domains/{id}/alerts", _ALERT_R),
        _op("domains.machines", "GET", "/api/domains/{id}/machines", _MACH_R),
        _op("domains.stats", "GET", "/api/domains/{id}/stats", ("Url.Read.All",)),
        _op("users.alerts", "GET", "/api/users/{id}/alerts", _ALERT_R),
        _op("users.machines", "GET", "/api/users/{id}/machines", _MACH_R),
        # Investigations
        _op("investigations.list", "GET", "/api/investigations", _ALERT_R),
        _op("investigations.get", "GET", "/api/investigations/{id}", _ALERT_R),
        # Advanced hunting (three APIs)
        _op(
            "hunting.run",
            "POST",
            "/api/advancedqueries/run",
            ("AdvancedQuery.Read.All",),
            limit=Limit(45, 1500),
            **_REPLAYABLE,  # a query
        ),
        _op(
            "hunting.run_xdr",
            "POST",
            "/api/advancedhunting/run",
            ("AdvancedHunting.Read.All",),
            limit=Limit(45, 1500),
            resource=MTP.name,
            **_REPLAYABLE,
        ),
        # Defender XDR incidents (Microsoft Threat Protection)
        _op("incidents.list", "GET", "/api/incidents", _INC_R, max_top=100, **_XDR),
        _op("incidents.get", "GET", "/api/incidents/{id}", _INC_R, **_XDR),
        _op("incidents.update", "PATCH", "/api/incidents/{id}", _INC_W, **_XDR),
        # Microsoft Graph security incidents and alerts (alerts_v2)
        # $top maxima of the Graph lists are not documented (UNVERIFIED): 50 is what clients use for
        # incidents; 2,000 is a common Graph maximum.
        _op("graph_incidents.list", "GET", "/v1.0/security/incidents", _SI_R, max_top=50, **_GRAPH_SEC),
        _op("graph_incidents.get", "GET", "/v1.0/security/incidents/{id}", _SI_R, **_GRAPH_SEC),
        _op("graph_incidents.update", "PATCH", "/v1.0/security/incidents/{id}", _SI_W, **_GRAPH_SEC),
        _op("graph_incidents.comment", "POST", "/v1.0/security/incidents/{id}/comments", _SI_W, **_GRAPH_SEC),
        _op("graph_alerts.list", "GET", "/v1.0/security/alerts_v2", _SA_R, max_top=2000, **_GRAPH_SEC),
        _op("graph_alerts.get", "GET", "/v1.0/security/alerts_v2/{id}", _SA_R, **_GRAPH_SEC),
        _op("graph_alerts.update", "PATCH", "/v1.0/security/alerts_v2/{id}", _SA_W, **_GRAPH_SEC),
        _op("graph_alerts.comment", "POST", "/v1.0/security/alerts_v2/{id}/comments", _SA_W, **_GRAPH_SEC),
        _op(
            "hunting.run_graph",
            "POST",
            "/v1.0/security/runHuntingQuery",
            ("ThreatHunting.Read.All",),
            limit=Limit(45, 1500),
            resource=GRAPH.name,
            **_REPLAYABLE,
        ),
        *_TVM,
    )
}


def operation(name: str) -> Operation:
    """The operation called *name*; ``KeyError`` if there is none (a programming error)."""
    return OPERATIONS[name]


def find_operation(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation serving ``method path`` and its path parameters, or ``None``.

    Literal paths win over templated ones (``/api/alerts/batchUpdate`` is not ``/api/alerts/{id}``);
    among templated ones the most literal text wins (``/api/machines/findbyip(ip='{ip}',...)`` is
    not ``/api/machines/{id}``).
    """
    method = method.upper()
    best: tuple[Operation, dict[str, str]] | None = None
    best_literal = -1
    for op in OPERATIONS.values():
        if op.method != method:
            continue
        m = op.pattern.match(path)
        if m is None:
            continue
        if not m.groupdict():
            return op, {}
        literal = _literal_length(op.path)
        if literal > best_literal:
            best, best_literal = (op, m.groupdict()), literal
    return best


@cache
def _literal_length(path: str) -> int:
    return len(re.sub(r"\{[^}]+\}", "", path))
