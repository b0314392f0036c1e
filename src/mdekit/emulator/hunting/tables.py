"""The advanced-hunting tables: columns and KQL types in the order of Microsoft's schema reference.

Each table lists its columns exactly as its page ``defender-xdr/advanced-hunting-<table>-table.md``
(MicrosoftDocs/defender-docs) gives them (``tests/hunting/fixtures/schema_tables.json`` holds the
pages' tables and a test compares): names, order and types (``AdditionalFields``,
``LoggedOnUsers`` and the other JSON-holding columns are ``string``, as documented).

Types are KQL's: ``datetime``, ``string``, ``long``, ``int``, ``bool``, ``real``, ``dynamic``. In
the engine (DuckDB) a datetime is integer microseconds since the epoch, a bool a BOOLEAN and a
dynamic value JSON text.

Adding a table (for example the TVM tables)
-------------------------------------------
1. Add its columns here with :func:`register` (``register("DeviceInfo", [...])``), copying the
   schema page; list the page in the comment above the call. (The DeviceTvm* tables take theirs
   from the TVM module, which defines them with their rows.)
2. Give it a builder in ``hunting/data/build.py``: a function ``(conn, world)`` that creates the
   table on the tenant's DuckDB connection from the world's seed tables (``__machines``,
   ``__alerts``, ``__bins``; ``require(conn, world, "__ip")`` for the process table), usually one
   ``_insert(conn, world, name, {column: SQL expression}, source)`` (missing string columns read
   ``''``, other missing columns null); data that lives in a store (``world.sources.defender``)
   goes in first with ``load_rows(conn, "__name", columns, rows)`` (``hunting/data/world.py``). Register it in
   :data:`mdekit.emulator.hunting.data.build.BUILDERS`. A table without a builder is created empty.
   Tables are built lazily, the first time a query names them, so a new table costs nothing to
   tenants that never query it.
3. Add a corpus case (tests/hunting/kql_corpus.py) that reads it.
"""

from __future__ import annotations

from mdekit.emulator.defender.tvm.hunting import TVM_HUNTING_TABLES
from mdekit.emulator.hunting.sql import SQL_TYPE, quote_ident

__all__ = ["HIDDEN_TABLES", "SCHEMA_TYPE", "TABLES", "create_table", "register", "sql_type"]

#: KQL type -> the ``Type`` name the API writes in ``Schema``.
SCHEMA_TYPE = {
    "datetime": "DateTime",
    "string": "String",
    "long": "Int64",
    "int": "Int32",
    "bool": "Boolean",
    "real": "Double",
    "dynamic": "Object",
    "timespan": "TimeSpan",
    "guid": "Guid",
    "null": "Object",
}

_S, _L, _I, _B, _T = "string", "long", "int", "bool", "datetime"


def _cols(spec: str, kind: str = _S) -> list[tuple[str, str]]:
    return [(name, kind) for name in spec.split()]


_HEAD = [("Timestamp", _T), *_cols("DeviceId DeviceName ActionType")]
_VERSION_INFO = _cols(
    "InitiatingProcessVersionInfoCompanyName InitiatingProcessVersionInfoProductName "
    "InitiatingProcessVersionInfoProductVersion InitiatingProcessVersionInfoInternalFileName "
    "InitiatingProcessVersionInfoOriginalFileName InitiatingProcessVersionInfoFileDescription"
)
_ACCOUNT = _cols(
    "InitiatingProcessAccountDomain InitiatingProcessAccountName InitiatingProcessAccountSid "
    "InitiatingProcessAccountUpn InitiatingProcessAccountObjectId"
)
_PROCESS_TAIL = [
    ("InitiatingProcessId", _L),
    ("InitiatingProcessCommandLine", _S),
    ("InitiatingProcessCreationTime", _T),
    ("InitiatingProcessFolderPath", _S),
]
_PARENT = [
    ("InitiatingProcessParentId", _L),
    ("InitiatingProcessParentFileName", _S),
    ("InitiatingProcessParentCreationTime", _T),
]
_INTEGRITY = _cols("InitiatingProcessIntegrityLevel InitiatingProcessTokenElevation")
_HASHES = _cols("InitiatingProcessSHA1 InitiatingProcessSHA256 InitiatingProcessMD5")
_FILE = [("InitiatingProcessFileName", _S), ("InitiatingProcessFileSize", _L)]
_SESSION = [
    ("InitiatingProcessSessionId", _L),
    ("IsInitiatingProcessRemoteSession", _B),
    *_cols("InitiatingProcessRemoteSessionDeviceName InitiatingProcessRemoteSessionIP"),
]
_CREATED_SESSION = [
    ("CreatedProcessSessionId", _L),
    ("IsProcessRemoteSession", _B),
    *_cols("ProcessRemoteSessionDeviceName ProcessRemoteSessionIP"),
]

TABLES: dict[str, list[tuple[str, str]]] = {}
#: Tables the engine uses internally (FileProfile() data); queries cannot name them.
HIDDEN_TABLES: dict[str, list[tuple[str, str]]] = {}


def register(name: str, columns: list[tuple[str, str]], *, hidden: bool = False) -> None:
    """Add a table (or replace one with the same name)."""
    (HIDDEN_TABLES if hidden else TABLES)[name] = columns


# defender-xdr/advanced-hunting-deviceinfo-table.md (ms.date 12/04/2024)
register(
    "DeviceInfo",
    [
        ("Timestamp", _T),
        *_cols("DeviceId DeviceName ClientVersion PublicIP OSArchitecture OSPlatform"),
        ("OSBuild", _L),
        ("IsAzureADJoined", _B),
        *_cols("JoinType AadDeviceId LoggedOnUsers RegistryDeviceTag OSVersion MachineGroup"),
        ("ReportId", _L),
        *_cols(
            "OnboardingStatus AdditionalFields DeviceCategory DeviceType DeviceSubtype Model Vendor "
            "OSDistribution OSVersionInfo MergedDeviceIds MergedToDeviceId"
        ),
        ("IsInternetFacing", _B),
        ("SensorHealthState", _S),
        ("IsExcluded", _B),
        *_cols(
            "ExclusionReason ExposureLevel AssetValue DeviceManualTags DeviceDynamicTags ConnectivityType "
            "HostDeviceId AzureResourceId AwsResourceName GcpFullResourceName"
        ),
    ],
)

# defender-xdr/advanced-hunting-devicenetworkinfo-table.md (ms.date 01/16/2024)
register(
    "DeviceNetworkInfo",
    [
        ("Timestamp", _T),
        *_cols(
            "DeviceId DeviceName NetworkAdapterName MacAddress NetworkAdapterType NetworkAdapterStatus "
            "TunnelType ConnectedNetworks DnsAddresses IPv4Dhcp IPv6Dhcp DefaultGateways IPAddresses"
        ),
        ("ReportId", _L),
        ("NetworkAdapterVendor", _S),
    ],
)

# defender-xdr/advanced-hunting-deviceprocessevents-table.md (ms.date 09/06/2024)
register(
    "DeviceProcessEvents",
    [
        *_HEAD,
        *_cols("FileName FolderPath SHA1 SHA256 MD5"),
        ("FileSize", _L),
        *_cols(
            "ProcessVersionInfoCompanyName ProcessVersionInfoProductName ProcessVersionInfoProductVersion "
            "ProcessVersionInfoInternalFileName ProcessVersionInfoOriginalFileName "
            "ProcessVersionInfoFileDescription"
        ),
        ("ProcessId", _L),
        *_cols("ProcessCommandLine ProcessIntegrityLevel ProcessTokenElevation"),
        ("ProcessCreationTime", _T),
        *_cols("AccountDomain AccountName AccountSid AccountUpn AccountObjectId"),
        ("LogonId", _L),
        *_ACCOUNT,
        ("InitiatingProcessLogonId", _L),
        *_INTEGRITY,
        *_HASHES,
        *_FILE,
        *_VERSION_INFO,
        *_PROCESS_TAIL,
        *_PARENT,
        *_cols("InitiatingProcessSignerType InitiatingProcessSignatureStatus"),
        ("ReportId", _L),
        *_cols("AppGuardContainerId AdditionalFields"),
        *_SESSION,
        *_CREATED_SESSION,
    ],
)

# defender-xdr/advanced-hunting-devicenetworkevents-table.md (ms.date 09/06/2024)
register(
    "DeviceNetworkEvents",
    [
        *_HEAD,
        ("RemoteIP", _S),
        ("RemotePort", _I),
        ("RemoteUrl", _S),
        ("LocalIP", _S),
        ("LocalPort", _I),
        *_cols("Protocol LocalIPType RemoteIPType"),
        *_HASHES,
        *_FILE,
        *_VERSION_INFO,
        *_PROCESS_TAIL,
        ("InitiatingProcessParentFileName", _S),
        ("InitiatingProcessParentId", _L),
        ("InitiatingProcessParentCreationTime", _T),
        *_ACCOUNT,
        *_INTEGRITY,
        ("ReportId", _L),
        *_cols("AppGuardContainerId AdditionalFields"),
        *_SESSION,
    ],
)

# defender-xdr/advanced-hunting-devicefileevents-table.md (ms.date 09/06/2024)
register(
    "DeviceFileEvents",
    [
        *_HEAD,
        *_cols(
            "FileName FolderPath SHA1 SHA256 MD5 FileOriginUrl FileOriginReferrerUrl FileOriginIP "
            "PreviousFolderPath PreviousFileName"
        ),
        ("FileSize", _L),
        *_ACCOUNT,
        *_cols(
            "InitiatingProcessMD5 InitiatingProcessSHA1 InitiatingProcessSHA256 InitiatingProcessFolderPath"
        ),
        *_FILE,
        *_VERSION_INFO,
        ("InitiatingProcessId", _L),
        ("InitiatingProcessCommandLine", _S),
        ("InitiatingProcessCreationTime", _T),
        *_INTEGRITY,
        *_PARENT,
        *_cols("RequestProtocol RequestSourceIP"),
        ("RequestSourcePort", _I),
        *_cols(
            "RequestAccountName RequestAccountDomain RequestAccountSid ShareName SensitivityLabel "
            "SensitivitySubLabel"
        ),
        ("IsAzureInfoProtectionApplied", _B),
        ("ReportId", _L),
        *_cols("AppGuardContainerId AdditionalFields"),
        *_SESSION,
    ],
)

# defender-xdr/advanced-hunting-devicelogonevents-table.md (ms.date 09/06/2024)
register(
    "DeviceLogonEvents",
    [
        *_HEAD,
        *_cols("LogonType AccountDomain AccountName AccountSid Protocol FailureReason"),
        ("IsLocalAdmin", _B),
        ("LogonId", _L),
        *_cols("RemoteDeviceName RemoteIP RemoteIPType"),
        ("RemotePort", _I),
        *_ACCOUNT,
        *_INTEGRITY,
        *_HASHES,
        *_FILE,
        *_VERSION_INFO,
        *_PROCESS_TAIL,
        *_PARENT,
        ("ReportId", _L),
        *_cols("AppGuardContainerId AdditionalFields"),
        *_SESSION,
    ],
)

# defender-xdr/advanced-hunting-deviceregistryevents-table.md (ms.date 09/06/2024)
register(
    "DeviceRegistryEvents",
    [
        *_HEAD,
        *_cols(
            "RegistryKey RegistryValueType RegistryValueName RegistryValueData PreviousRegistryKey "
            "PreviousRegistryValueName PreviousRegistryValueData"
        ),
        *_ACCOUNT,
        *_HASHES,
        *_FILE,
        *_VERSION_INFO,
        *_PROCESS_TAIL,
        *_PARENT,
        *_INTEGRITY,
        ("ReportId", _L),
        ("AppGuardContainerId", _S),
        *_SESSION,
    ],
)

# defender-xdr/advanced-hunting-deviceimageloadevents-table.md (ms.date 09/06/2024: the page added the
# initiating process's session columns)
register(
    "DeviceImageLoadEvents",
    [
        *_HEAD,
        *_cols("FileName FolderPath SHA1 SHA256 MD5"),
        ("FileSize", _L),
        *_ACCOUNT,
        *_INTEGRITY,
        *_HASHES,
        *_FILE,
        *_VERSION_INFO,
        *_PROCESS_TAIL,
        *_PARENT,
        ("ReportId", _L),
        ("AppGuardContainerId", _S),
        *_SESSION,
    ],
)

# defender-xdr/advanced-hunting-deviceevents-table.md (ms.date 09/06/2024)
register(
    "DeviceEvents",
    [
        *_HEAD,
        *_cols("FileName FolderPath SHA1 SHA256 MD5"),
        ("FileSize", _L),
        *_cols("AccountDomain AccountName AccountSid RemoteUrl RemoteDeviceName"),
        ("ProcessId", _L),
        ("ProcessCommandLine", _S),
        ("ProcessCreationTime", _T),
        ("ProcessTokenElevation", _S),
        ("LogonId", _L),
        *_cols("RegistryKey RegistryValueName RegistryValueData RemoteIP"),
        ("RemotePort", _I),
        ("LocalIP", _S),
        ("LocalPort", _I),
        *_cols("FileOriginUrl FileOriginIP"),
        *_HASHES,
        *_FILE,
        ("InitiatingProcessFolderPath", _S),
        ("InitiatingProcessId", _L),
        ("InitiatingProcessCommandLine", _S),
        ("InitiatingProcessCreationTime", _T),
        *_ACCOUNT,
        *_VERSION_INFO,
        *_PARENT,
        ("InitiatingProcessLogonId", _L),
        ("ReportId", _L),
        *_cols("AppGuardContainerId AdditionalFields"),
        *_SESSION,
        *_CREATED_SESSION,
    ],
)

# defender-xdr/advanced-hunting-devicefilecertificateinfo-table.md (ms.date 01/16/2024)
register(
    "DeviceFileCertificateInfo",
    [
        ("Timestamp", _T),
        *_cols("DeviceId DeviceName SHA1"),
        ("IsSigned", _B),
        *_cols(
            "SignatureType Signer SignerHash Issuer IssuerHash CertificateSerialNumber "
            "CrlDistributionPointUrls"
        ),
        ("CertificateCreationTime", _T),
        ("CertificateExpirationTime", _T),
        ("CertificateCountersignatureTime", _T),
        ("IsTrusted", _B),
        ("IsRootSignerMicrosoft", _B),
        ("ReportId", _L),
    ],
)

# defender-xdr/advanced-hunting-alertinfo-table.md (ms.date 04/03/2024)
register(
    "AlertInfo",
    [
        ("Timestamp", _T),
        *_cols("AlertId Title Category Severity ServiceSource DetectionSource AttackTechniques"),
    ],
)

# defender-xdr/advanced-hunting-alertevidence-table.md (ms.date 04/03/2024)
register(
    "AlertEvidence",
    [
        ("Timestamp", _T),
        *_cols(
            "AlertId Title Categories AttackTechniques ServiceSource DetectionSource EntityType "
            "EvidenceRole EvidenceDirection FileName FolderPath SHA1 SHA256"
        ),
        ("FileSize", _L),
        *_cols(
            "ThreatFamily RemoteIP RemoteUrl AccountName AccountDomain AccountSid AccountObjectId "
            "AccountUpn DeviceId DeviceName LocalIP NetworkMessageId EmailSubject Application"
        ),
        ("ApplicationId", _I),
        *_cols(
            "OAuthApplicationId ProcessCommandLine RegistryKey RegistryValueName RegistryValueData "
            "AdditionalFields Severity CloudResource CloudPlatform ResourceType ResourceID SubscriptionId"
        ),
    ],
)

# What FileProfile() adds (defender-xdr/advanced-hunting-fileprofile-function.md, ms.date 02/16/2024),
# keyed by SHA1; FileSize/GlobalPrevalence are `int` on that page.
register(
    "FileProfiles",
    [
        *_cols("SHA1 SHA256 MD5"),
        ("FileSize", _I),
        ("GlobalPrevalence", _I),
        ("GlobalFirstSeen", _T),
        ("GlobalLastSeen", _T),
        *_cols("Signer Issuer SignerHash"),
        ("IsCertificateValid", _B),
        ("IsRootSignerMicrosoft", _B),
        ("SignatureState", _S),
        ("IsExecutable", _B),
        *_cols("ThreatName Publisher SoftwareName ProfileAvailability"),
    ],
    hidden=True,
)


def sql_type(kql_type: str) -> str:
    """The DuckDB column type storing a KQL type."""
    return SQL_TYPE.get(kql_type, "VARCHAR")


def create_table(conn: object, name: str, columns: list[tuple[str, str]]) -> None:
    """Create one table on a DuckDB connection (strings default to '' as KQL strings are never null)."""
    body = ", ".join(
        f"{quote_ident(c)} {sql_type(t)}" + (" DEFAULT ''" if t == "string" else "") for c, t in columns
    )
    conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_ident(name)} ({body})")  # type: ignore[attr-defined]


# The DeviceTvm* tables (snapshots: no Timestamp): their columns are defined once, next to their
# rows, by the TVM module (from the schema reference pages); data/tvm.py builds them.
for _name, _columns in TVM_HUNTING_TABLES.items():
    register(_name, list(_columns))
