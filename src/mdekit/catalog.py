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
    "APP_ADMIN_ROLES",
    "DIRECTORY_ROLES",
    "FIRST_PARTY_CLIENTS",
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
    "LIVE_RESPONSE",
    "MDE",
    "MTP",
    "OPERATIONS",
    "RESOURCES",
    "RESOURCE_ADMIN_ROLES",
    "Limit",
    "LiveResponseLimits",
    "Operation",
    "ResourceApp",
    "find_operation",
    "operation",
    "resource_by_uri",
    "resource_named",
]


@dataclass(frozen=True)
class ResourceApp:
    """A first-party resource application that tokens are issued for.

    ``roles`` are its application permissions (app roles) by ``value``; ``role_ids`` gives each
    app role's GUID (the ``appRoleId`` of a grant, the ``id`` in ``requiredResourceAccess``);
    ``scopes`` maps its delegated permissions (``oauth2PermissionScopes``) to their GUIDs, and
    ``admin_scopes`` names the delegated ones only an administrator may consent to.
    """

    name: str
    app_id: str
    identifier_uris: tuple[str, ...]
    roles: tuple[str, ...]
    role_descriptions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    role_ids: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    scopes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    admin_scopes: frozenset[str] = field(default_factory=frozenset, compare=False, hash=False)

    def role_named(self, role_id: str) -> str | None:
        """The app role (``value``) whose GUID is *role_id*, or ``None``."""
        key = role_id.lower()
        return next((v for v, i in self.role_ids.items() if i == key), None)

    def scope_named(self, scope_id: str) -> str | None:
        """The delegated scope (``value``) whose GUID is *scope_id*, or ``None``."""
        key = scope_id.lower()
        return next((v for v, i in self.scopes.items() if i == key), None)


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

# App-role GUIDs of WindowsDefenderATP: service-facts-2 §4.2, where two independent dumps of real
# tenants (a markdown dump and Get-MgServicePrincipal console output) list the same 30 roles with
# the same ids and four setup scripts agree on every role they use. Wrong lists circulate: clients
# should still resolve roles by value from the service principal's appRoles at run time.
_MDE_ROLE_IDS = {
    "AdvancedQuery.Read.All": "93489bf5-0fbc-4f2d-b901-33f2fe08ff05",
    "Alert.Read.All": "71fe6b80-7034-4028-9ed8-0f316df9c3ff",
    "Alert.ReadWrite.All": "0f7000ec-157b-497f-b70e-ef0b0584f140",
    "Event.Write": "84ddd701-5fac-4c30-b0ad-aa73a67bea1a",
    "File.Read.All": "8788f1a9-beca-4e26-ba58-10513f3b896f",
    "IntegrationConfiguration.ReadWrite": "7c6f6912-60e9-4fcd-bb2a-c25bc35e8c59",
    "Ip.Read.All": "47bf842d-354b-49ef-b741-3a6dd815bc13",
    "Library.Manage": "41d209c7-2511-4fc9-b899-8008a3976f09",
    "Machine.CollectForensics": "15405ab2-2103-4a3c-ad80-e829841cedcc",
    "Machine.Isolate": "7e4e1300-e1b9-4102-88ba-f0cb6e6d5974",
    "Machine.LiveResponse": "1629b959-c0af-42a1-92f0-f6162060bdf1",
    "Machine.Offboard": "594435bf-36dd-4548-83bd-1bdafe157d7a",
    "Machine.Read.All": "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79",
    "Machine.ReadWrite.All": "aa027352-232b-4ed4-b963-a705fc4d6d2c",
    "Machine.RestrictExecution": "96b6b35d-074d-4e2d-b167-8d68d9269648",
    "Machine.Scan": "a86d9824-b2b6-45f8-b042-16bc4922ed4e",
    "Machine.StopAndQuarantine": "96e72b5e-7e68-4171-aad1-3937599e4751",
    "RemediationTasks.Read.All": "6a33eedf-ba73-4e5a-821b-f057ef63853a",
    "Score.Read.All": "02b005dd-f804-43b4-8fc7-078460413f74",
    "SecurityBaselinesAssessment.Read.All": "e870c0c1-c1a2-41ca-948e-a33912d2d3f0",
    "SecurityConfiguration.Read.All": "227f2ea0-c2c2-4428-b7af-9ff40f1a720e",
    "SecurityConfiguration.ReadWrite.All": "e5e05709-32a3-4c85-89c8-67596eb94f24",
    "SecurityRecommendation.Read.All": "6443965c-7dd2-4cfd-b38f-bb7772bee163",
    "Software.Read.All": "37f71c98-d198-41ae-964d-2c49aab74926",
    "Ti.Read.All": "528ca142-c849-4a5b-935e-10b8b9c38a84",
    "Ti.ReadWrite": "a8bc2240-f96a-46a1-bad5-6a960b7327a1",
    "Ti.ReadWrite.All": "fc511a58-3adf-4d71-af24-00f13e35e479",
    "Url.Read.All": "721af526-ffa8-42d7-9b84-1a56244dd99d",
    "User.Read.All": "a833834a-4cf1-4732-8acf-bbcfa13fb610",
    "Vulnerability.Read.All": "41269fc5-d04d-4bfd-bce7-43a51cea049a",
}
# Delegated scopes of WindowsDefenderATP (service-facts-2 §4.2: two sources; the Machine.* action
# scopes from one source only - UNVERIFIED). Whether each needs admin consent is UNVERIFIED: the
# emulator treats them all as admin-only, as the portal's "Admin consent required" column reads.
_MDE_SCOPES = {
    "AdvancedQuery.Read": "1fb6e712-1bd9-4184-b1c0-5e71e759196b",
    "Alert.Read": "b2069dc0-9fe9-4e6d-9aca-ccf3dd503819",
    "Alert.ReadWrite": "cbc3b413-21e6-416d-95a4-af87687efbd0",
    "File.Read.All": "8fce64a0-67c8-4e39-8f47-cac9ff7e13bb",
    "IntegrationConfiguration.ReadWrite": "7c6f6912-60e9-4fcd-bb2a-c25bc35e8c59",
    "Ip.Read.All": "b65a97e8-c8e8-4908-b19a-f654615de1a9",
    "Library.Manage": "5998a3da-2c9b-4bf3-99bd-44c9fe337ad2",
    "Machine.CollectForensics": "5eb7b9dc-cbce-4c7e-9d73-5be248260ae6",
    "Machine.Isolate": "479231ef-3b86-4933-ae6b-1fa84bba9e31",
    "Machine.LiveResponse": "25fb0c21-5877-492a-8d0c-e7893a9585cc",
    "Machine.Offboard": "29d1c73a-07f6-495f-b62b-1554a954d0a3",
    "Machine.Read": "fbd3d33a-b1f5-4573-906c-51b39682fbcf",
    "Machine.ReadWrite": "f6846c57-9e3c-4a65-81aa-2f5e09ff4f0b",
    "Machine.RestrictExecution": "abddfa88-80bb-4aef-81ff-18cbf29363a9",
    "Machine.Scan": "b4618115-647e-42a5-bd0d-0ea9878fb376",
    "Machine.StopAndQuarantine": "69e036b7-3f10-4d4c-a85e-82295629eca8",
    "RemediationTasks.Read": "19956c04-168f-4f44-b471-48c8f50dc0c8",
    "Score.Read": "df4ed126-3a4c-460a-b0fc-67aea84fc332",
    "SecurityBaselinesAssessment.Read": "d42e2aa1-a664-43a9-b7c6-2766d44a6687",
    "SecurityConfiguration.Read": "4ac83e46-552f-4948-91c2-f7eaff971018",
    "SecurityConfiguration.ReadWrite": "bfc81a3a-4f6d-4bfe-b945-d7fe6747d2a0",
    "SecurityRecommendation.Read": "1ab96238-1253-4059-a32f-4087f20ed65d",
    "Software.Read": "5f216ada-3f51-4a22-ace5-06b198328476",
    "Ti.ReadWrite": "650ff1f9-dd5f-48ee-8c58-7beef332c818",
    "Url.Read.All": "42b4777c-6196-49ad-9cfc-207e73f2eb61",
    "User.Read.All": "ffd6563e-842b-4cfc-b349-06006e0473a3",
    "Vulnerability.Read": "63a677ce-818c-4409-9d12-5c6d2e2a6bfe",
}

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
    role_ids=_MDE_ROLE_IDS,
    scopes=_MDE_SCOPES,
    admin_scopes=frozenset(_MDE_SCOPES),
)

#: "Microsoft Threat Protection": the Defender XDR API at api.security.microsoft.com (hunting, incidents).
# Role GUIDs: service-facts-2 §4.3 (a dump of the service principal and a setup script agree);
# delegated scopes from one source only (UNVERIFIED).
_MTP_SCOPES = {
    "AdvancedHunting.Read": "15f11de4-5113-4268-a2d1-0bad43d781f9",
    "CustomDetections.ReadWrite": "ddbb8d0c-c86b-4ece-bcb7-0f031a9cf103",
    "Incident.Read": "12c153a4-4204-4224-aa3c-4626e2f47c2b",
    "Incident.ReadWrite": "2af415cc-88cf-4146-a0c8-444c3a80d5db",
}
MTP = ResourceApp(
    name="Microsoft Threat Protection",
    app_id="8ee8fdad-f234-4243-8f3b-15c294843740",
    identifier_uris=("https://api.security.microsoft.com",),
    roles=(
        "AdvancedHunting.Read.All",
        "Incident.Read.All",
        "Incident.ReadWrite.All",
        "CustomDetections.ReadWrite.All",
    ),
    role_ids={
        "AdvancedHunting.Read.All": "7734e8e5-8dde-42fc-b5ae-6eafea078693",
        "Incident.Read.All": "a9790345-4595-42e4-971a-ccdc79f19b7c",
        "Incident.ReadWrite.All": "8d90f441-09cf-4fdc-ab45-e874fa3a28e8",
        "CustomDetections.ReadWrite.All": "a7deff90-e2f5-4e4e-83a3-2c74e7002e28",
    },
    scopes=_MTP_SCOPES,
    admin_scopes=frozenset(_MTP_SCOPES),
)

# Microsoft Graph: app-role and delegated GUIDs of the security permissions from service-facts-2
# §4.4 (the Graph permissions reference, mirrored by graph-permissions-explorer); the application
# management ones from the same reference (Application.Read.All, AppRoleAssignment.ReadWrite.All)
# and, for Application.ReadWrite.All and Directory.Read.All, several independent scripts plus a
# generated id -> name table. "Consent Type: Admin" for every delegated one but User.Read
# (permissions reference); the security scopes' consent type is UNVERIFIED (taken as admin).
_GRAPH_SCOPES = {
    "ThreatHunting.Read.All": "b152eca8-ea73-4a48-8c98-1a6742673d99",
    "SecurityIncident.Read.All": "b9abcc4f-94fc-4457-9141-d20ce80ec952",
    "SecurityIncident.ReadWrite.All": "128ca929-1a19-45e6-a3b8-435ec44a36ba",
    "SecurityAlert.Read.All": "bc257fb8-46b4-4b15-8713-01e91bfbe4ea",
    "SecurityAlert.ReadWrite.All": "471f2a7f-2a42-4d45-a2bf-594d0838070d",
    "Application.Read.All": "c79f8feb-a9db-4090-85f9-90d820caa0eb",
    "Application.ReadWrite.All": "bdfbf15f-ee85-4955-8675-146e8e5296b5",
    "AppRoleAssignment.ReadWrite.All": "84bccea3-f856-4a8a-967b-dbe0a3d53a64",
    "Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
}
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
        "Application.Read.All",
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
        "Directory.Read.All",
    ),
    role_ids={
        "ThreatHunting.Read.All": "dd98c7f5-2d42-42d3-a0e4-633161547251",
        "SecurityAlert.Read.All": "472e4a4d-bb4a-4026-98d1-0b0d74cb74a5",
        "SecurityAlert.ReadWrite.All": "ed4fca05-be46-441f-9803-1873825f8fdb",
        "SecurityIncident.Read.All": "45cc0394-e837-488b-a098-1918f48d186c",
        "SecurityIncident.ReadWrite.All": "34bf0e97-1971-4929-b999-9e2442d941d7",
        "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
        "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    },
    scopes=_GRAPH_SCOPES,
    admin_scopes=frozenset(_GRAPH_SCOPES) - {"User.Read"},
)

RESOURCES: tuple[ResourceApp, ...] = (MDE, MTP, GRAPH)

#: Microsoft's own public clients that command-line tools sign users in with; they exist in every
#: tenant (first-party apps), take device-code sign-ins and need no credential.
FIRST_PARTY_CLIENTS: dict[str, str] = {
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph Command Line Tools",
}

#: Built-in Microsoft Entra directory roles this project uses: name -> role template id (the ids a
#: user token's ``wids`` claim lists). Source: "Microsoft Entra built-in roles" (permissions-reference).
DIRECTORY_ROLES: dict[str, str] = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Application Developer": "cf1c38e5-3621-4004-a7cb-879624dced7c",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
    "Directory Synchronization Accounts": "d29b2b05-8046-44ba-8758-1e26182fcf32",
    "Directory Writers": "9360feb5-f418-4baa-8175-e2a00bac4301",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Hybrid Identity Administrator": "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    "Identity Governance Administrator": "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Security Operator": "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
}

#: Who may manage app registrations they do not own, and consent for a whole tenant: the roles
#: of "Grant tenant-wide admin consent" and the Application Administrator role description.
APP_ADMIN_ROLES = ("Global Administrator", "Cloud Application Administrator", "Application Administrator")

#: Roles that may grant an application permission (POST appRoleAssignedTo), per resource: the
#: Graph API page lists these roles for delegated calls; Application and Cloud Application
#: Administrators may not grant Microsoft Graph's app roles ("with the exception of application
#: permissions for Azure AD Graph and Microsoft Graph": Privileged Role Administrator can). Whether
#: the other listed roles may grant Microsoft Graph app roles is UNVERIFIED (refused here).
RESOURCE_ADMIN_ROLES: dict[str, tuple[str, ...]] = {
    MDE.app_id: (
        "Global Administrator",
        "Privileged Role Administrator",
        "Cloud Application Administrator",
        "Application Administrator",
        "Directory Synchronization Accounts",
        "Directory Writers",
        "Hybrid Identity Administrator",
        "Identity Governance Administrator",
        "User Administrator",
    ),
    GRAPH.app_id: ("Global Administrator", "Privileged Role Administrator"),
}
RESOURCE_ADMIN_ROLES[MTP.app_id] = RESOURCE_ADMIN_ROLES[MDE.app_id]


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
    """Documented call limits for an operation; ``None`` means no limit of that period.

    ``concurrent``: how many of the operation's sessions a tenant may have running at once (live
    response: 25), ``None`` when the docs state no such limit.
    """

    per_minute: int | None = 100
    per_hour: int | None = 1500
    concurrent: int | None = None


@dataclass(frozen=True)
class LiveResponseLimits:
    """The documented limits of live response and its library (service-facts-2 §2).

    API pages: run-live-response (ms.date 04/18/2023), get-live-response-result, upload-library
    (12/11/2025). The GetFile/PutFile sizes come from the portal page (live-response, 03/04/2025):
    the API pages state none, so that they apply to the API too is UNVERIFIED.
    """

    #: RunScript is stopped after this many seconds.
    script_timeout_seconds: int = 600
    #: A session for a machine that is not available waits this long, then times out.
    queue_seconds: int = 3 * 24 * 3600
    #: A result download link is valid this long.
    link_seconds: int = 30 * 60
    #: ``POST /api/libraryfiles``: largest file.
    library_file_bytes: int = 20 * 1024 * 1024
    #: GetFile: largest file collected.
    get_file_bytes: int = 3 * 1024**3
    #: PutFile: largest file put on a Windows machine / on other platforms.
    put_file_bytes_windows: int = 300 * 1024 * 1024
    put_file_bytes_other: int = 10 * 1024 * 1024
    #: Command types, in the order a request must list them (repetitions allowed).
    command_order: tuple[str, ...] = ("PutFile", "RunScript", "GetFile")
    #: Each command type's parameter keys: (required, optional).
    params: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
        ("PutFile", ("FileName",), ()),
        ("RunScript", ("ScriptName",), ("Args",)),
        ("GetFile", ("Path",), ()),
    )


LIVE_RESPONSE = LiveResponseLimits()


DEFAULT_LIMIT = Limit()


@dataclass(frozen=True)
class Operation:
    """One API operation: ``name`` is stable (``family.verb``); ``roles`` are alternatives.

    ``roles`` are the application permissions that allow it (app-only tokens); ``scopes`` the
    delegated permissions (user tokens, ``scp``), empty where users cannot call it. ``also``: one
    of these is needed as well (as a role or a scope), where the documentation asks for two
    permissions together ("AppRoleAssignment.ReadWrite.All and Application.Read.All").
    """

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
    scopes: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

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
_LIBRARY = ("Library.Manage",)
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
# Graph application management (service-facts-2 §4.1; the Graph API pages): the same permission
# names serve app-only tokens (roles) and user tokens (scopes). Directory limits are resource-unit
# budgets per app and tenant, not calls per minute (UNVERIFIED figures): a generous 1,000 a minute.
_APP_R = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All")
_APP_W = ("Application.ReadWrite.All",)
_GRANT = ("AppRoleAssignment.ReadWrite.All",)
_DIR_R: dict[str, object] = {"resource": GRAPH.name, "limit": Limit(1000, None), "scopes": _APP_R}
_DIR_W: dict[str, object] = {"resource": GRAPH.name, "limit": Limit(1000, None), "scopes": _APP_W}
_DIR_G: dict[str, object] = {
    "resource": GRAPH.name,
    "limit": Limit(1000, None),
    "scopes": _GRANT,
    "also": _APP_R,
}

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

# The lists' OData ``/$count`` segments (OData 4.0 §11.2.9; the docs' own example counts a machine's
# alerts, [DD:exposed-apis-odata-samples]): each with its list's roles and limits.
_COUNTS = (
    _op("alerts.count", "GET", "/api/alerts/$count", _ALERT_R),
    _op("machines.count", "GET", "/api/machines/$count", _MACH_R),
    _op("actions.count", "GET", "/api/machineactions/$count", _MACH_R),
    _op("indicators.count", "GET", "/api/indicators/$count", _TI),
    _op("investigations.count", "GET", "/api/investigations/$count", _ALERT_R),
    _op("vulnerabilities.count", "GET", "/api/vulnerabilities/$count", _VULN),
    _op(
        "vulnerabilities.by_machine_and_software_count",
        "GET",
        "/api/vulnerabilities/machinesVulnerabilities/$count",
        _VULN,
    ),
    _op("software.count", "GET", "/api/Software/$count", _SOFT),
    _op("recommendations.count", "GET", "/api/recommendations/$count", _RECO),
    _op("remediation.count", "GET", "/api/remediationTasks/$count", _REMED),
    _op("machines.av_health_count", "GET", "/api/deviceavinfo/$count", _MACH_R[:1], limit=_EXPORT),
    _op("incidents.count", "GET", "/api/incidents/$count", _INC_R, **_XDR),
    # The OData service document's schema (CSDL). Any WindowsDefenderATP role will do (which one
    # the service asks for, if any, is UNVERIFIED).
    _op("metadata.get", "GET", "/api/$metadata", _MDE_ROLES),
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
            limit=Limit(10, None, concurrent=25),
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
        _op(
            "actions.live_response_result",
            "GET",
            "/api/machineactions/{id}/GetLiveResponseResultDownloadLink(index={index})",
            _MACH_R,
        ),
        # Live response library
        _op("library.list", "GET", "/api/libraryfiles", _LIBRARY),
        _op("library.upload", "POST", "/api/libraryfiles", _LIBRARY),
        _op("library.delete", "DELETE", "/api/libraryfiles/{id}", _LIBRARY),
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
        # Microsoft Graph application management (what `mde setup` calls)
        _op("graph_apps.list", "GET", "/v1.0/applications", _APP_R, max_top=999, **_DIR_R),
        _op("graph_apps.create", "POST", "/v1.0/applications", _APP_W, **_DIR_W),
        _op("graph_apps.get", "GET", "/v1.0/applications/{id}", _APP_R, **_DIR_R),
        _op("graph_apps.get_by_app_id", "GET", "/v1.0/applications(appId='{appId}')", _APP_R, **_DIR_R),
        _op("graph_apps.update", "PATCH", "/v1.0/applications/{id}", _APP_W, **_DIR_W),
        _op("graph_apps.update_by_app_id", "PATCH", "/v1.0/applications(appId='{appId}')", _APP_W, **_DIR_W),
        _op("graph_apps.delete", "DELETE", "/v1.0/applications/{id}", _APP_W, **_DIR_W),
        _op("graph_apps.delete_by_app_id", "DELETE", "/v1.0/applications(appId='{appId}')", _APP_W, **_DIR_W),
        _op("graph_apps.add_password", "POST", "/v1.0/applications/{id}/addPassword", _APP_W, **_DIR_W),
        _op(
            "graph_apps.add_password_by_app_id",
            "POST",
            "/v1.0/applications(appId='{appId}')/addPassword",
            _APP_W,
            **_DIR_W,
        ),
        _op("graph_apps.remove_password", "POST", "/v1.0/applications/{id}/removePassword", _APP_W, **_DIR_W),
        _op("graph_sps.list", "GET", "/v1.0/servicePrincipals", _APP_R, max_top=999, **_DIR_R),
        _op("graph_sps.create", "POST", "/v1.0/servicePrincipals", _APP_W, **_DIR_W),
        _op("graph_sps.get", "GET", "/v1.0/servicePrincipals/{id}", _APP_R, **_DIR_R),
        _op("graph_sps.get_by_app_id", "GET", "/v1.0/servicePrincipals(appId='{appId}')", _APP_R, **_DIR_R),
        _op(
            "graph_sps.role_assignments",
            "GET",
            "/v1.0/servicePrincipals/{id}/appRoleAssignments",
            _APP_R,
            **_DIR_R,
        ),
        _op("graph_grants.list", "GET", "/v1.0/servicePrincipals/{id}/appRoleAssignedTo", _APP_R, **_DIR_R),
        _op(
            "graph_grants.create",
            "POST",
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            _GRANT,
            **_DIR_G,
        ),
        _op(
            "graph_grants.create_by_app_id",
            "POST",
            "/v1.0/servicePrincipals(appId='{appId}')/appRoleAssignedTo",
            _GRANT,
            **_DIR_G,
        ),
        _op(
            "graph_grants.delete",
            "DELETE",
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}",
            _GRANT,
            **_DIR_G,
        ),
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
        *_COUNTS,
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
