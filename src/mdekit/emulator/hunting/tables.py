"""The advanced-hunting tables: columns and KQL types, per the Defender XDR schema reference.

Types are KQL's: ``datetime``, ``string``, ``long``, ``int``, ``bool``, ``real``, ``dynamic``.
In SQLite a datetime is stored as integer microseconds since the epoch, a bool as 0/1 and a
dynamic value as JSON text.
"""

from __future__ import annotations

__all__ = ["SCHEMA_TYPE", "TABLES", "create_tables", "sql_type"]

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
    "null": "Object",
}

_S, _L, _I, _B, _T, _D = "string", "long", "int", "bool", "datetime", "dynamic"


def _cols(spec: str, kind: str) -> list[tuple[str, str]]:
    return [(name, kind) for name in spec.split()]


def _initiating() -> list[tuple[str, str]]:
    return [
        *_cols(
            "InitiatingProcessAccountDomain InitiatingProcessAccountName InitiatingProcessAccountSid "
            "InitiatingProcessAccountUpn InitiatingProcessAccountObjectId InitiatingProcessIntegrityLevel "
            "InitiatingProcessTokenElevation InitiatingProcessSHA1 InitiatingProcessSHA256 "
            "InitiatingProcessMD5 "
            "InitiatingProcessFileName",
            _S,
        ),
        ("InitiatingProcessFileSize", _L),
        *_cols(
            "InitiatingProcessVersionInfoCompanyName InitiatingProcessVersionInfoProductName "
            "InitiatingProcessVersionInfoProductVersion InitiatingProcessVersionInfoInternalFileName "
            "InitiatingProcessVersionInfoOriginalFileName InitiatingProcessVersionInfoFileDescription",
            _S,
        ),
        ("InitiatingProcessId", _L),
        ("InitiatingProcessCommandLine", _S),
        ("InitiatingProcessCreationTime", _T),
        ("InitiatingProcessFolderPath", _S),
        ("InitiatingProcessParentId", _L),
        ("InitiatingProcessParentFileName", _S),
        ("InitiatingProcessParentCreationTime", _T),
        ("InitiatingProcessLogonId", _L),
    ]


_HEAD = [("Timestamp", _T), ("DeviceId", _S), ("DeviceName", _S), ("ActionType", _S)]
_TAIL = [("ReportId", _L), ("AdditionalFields", _D)]

TABLES: dict[str, list[tuple[str, str]]] = {
    "DeviceInfo": [
        ("Timestamp", _T),
        ("DeviceId", _S),
        ("DeviceName", _S),
        *_cols("ClientVersion PublicIP OSArchitecture OSPlatform OSBuild", _S),
        ("IsAzureADJoined", _B),
        *_cols("JoinType AadDeviceId", _S),
        ("LoggedOnUsers", _D),
        *_cols(
            "RegistryDeviceTag OSVersion MachineGroup OnboardingStatus DeviceCategory DeviceType "
            "DeviceSubtype Model Vendor OSDistribution OSVersionInfo",
            _S,
        ),
        ("IsInternetFacing", _B),
        ("SensorHealthState", _S),
        ("IsExcluded", _B),
        *_cols("ExposureLevel AssetValue", _S),
        ("DeviceManualTags", _D),
        ("DeviceDynamicTags", _D),
        ("ReportId", _L),
        ("AdditionalFields", _D),
    ],
    "DeviceProcessEvents": [
        *_HEAD,
        *_cols("FileName FolderPath SHA1 SHA256 MD5", _S),
        ("FileSize", _L),
        *_cols(
            "ProcessVersionInfoCompanyName ProcessVersionInfoProductName ProcessVersionInfoProductVersion "
            "ProcessVersionInfoInternalFileName ProcessVersionInfoOriginalFileName "
            "ProcessVersionInfoFileDescription",
            _S,
        ),
        ("ProcessId", _L),
        ("ProcessCommandLine", _S),
        ("ProcessIntegrityLevel", _S),
        ("ProcessTokenElevation", _S),
        ("ProcessCreationTime", _T),
        *_cols("AccountDomain AccountName AccountSid AccountUpn AccountObjectId", _S),
        ("LogonId", _L),
        *_initiating(),
        *_cols("InitiatingProcessSignerType InitiatingProcessSignatureStatus AppGuardContainerId", _S),
        *_TAIL,
    ],
    "DeviceNetworkEvents": [
        *_HEAD,
        ("RemoteIP", _S),
        ("RemotePort", _I),
        ("RemoteUrl", _S),
        ("LocalIP", _S),
        ("LocalPort", _I),
        *_cols("Protocol LocalIPType RemoteIPType", _S),
        *_initiating(),
        ("InitiatingProcessSessionId", _L),
        ("IsInitiatingProcessRemoteSession", _B),
        *_cols("InitiatingProcessRemoteSessionDeviceName InitiatingProcessRemoteSessionIP", _S),
        *_TAIL,
    ],
    "DeviceFileEvents": [
        *_HEAD,
        *_cols(
            "FileName FolderPath SHA1 SHA256 MD5 FileOriginUrl FileOriginReferrerUrl FileOriginIP "
            "PreviousFolderPath PreviousFileName",
            _S,
        ),
        ("FileSize", _L),
        *_initiating(),
        *_cols("RequestProtocol RequestSourceIP", _S),
        ("RequestSourcePort", _I),
        *_cols(
            "RequestAccountName RequestAccountDomain RequestAccountSid ShareName SensitivityLabel "
            "SensitivitySubLabel",
            _S,
        ),
        ("IsAzureInfoProtectionApplied", _B),
        *_TAIL,
    ],
    "DeviceLogonEvents": [
        *_HEAD,
        *_cols("LogonType AccountDomain AccountName AccountSid Protocol FailureReason", _S),
        ("IsLocalAdmin", _B),
        ("LogonId", _L),
        ("RemoteDeviceName", _S),
        ("RemoteIP", _S),
        ("RemoteIPType", _S),
        ("RemotePort", _I),
        *_initiating(),
        *_TAIL,
    ],
    "DeviceRegistryEvents": [
        *_HEAD,
        *_cols(
            "RegistryKey RegistryValueType RegistryValueName RegistryValueData PreviousRegistryKey "
            "PreviousRegistryValueName PreviousRegistryValueData",
            _S,
        ),
        *_initiating(),
        *_TAIL,
    ],
    "AlertInfo": [
        ("Timestamp", _T),
        *_cols("AlertId Title Category Severity ServiceSource DetectionSource AttackTechniques", _S),
    ],
    "AlertEvidence": [
        ("Timestamp", _T),
        *_cols(
            "AlertId Title Categories AttackTechniques ServiceSource DetectionSource EntityType "
            "EvidenceRole EvidenceDirection FileName FolderPath SHA1 SHA256",
            _S,
        ),
        ("FileSize", _L),
        *_cols(
            "ThreatFamily RemoteIP RemoteUrl AccountName AccountDomain AccountSid AccountObjectId "
            "AccountUpn DeviceId DeviceName LocalIP NetworkMessageId EmailSubject Application",
            _S,
        ),
        ("ApplicationId", _I),
        *_cols("OAuthApplicationId ProcessCommandLine RegistryKey RegistryValueName RegistryValueData", _S),
        ("AdditionalFields", _D),
        *_cols("Severity CloudResource CloudPlatform ResourceType ResourceID SubscriptionId", _S),
    ],
}

_SQL_TYPE = {"datetime": "INTEGER", "long": "INTEGER", "int": "INTEGER", "bool": "INTEGER", "real": "REAL"}


def sql_type(kql_type: str) -> str:
    """The SQLite column type storing a KQL type."""
    return _SQL_TYPE.get(kql_type, "TEXT")


def create_tables(conn: object, tables: dict[str, list[tuple[str, str]]] = TABLES) -> None:
    """Create every hunting table (and a ``Timestamp`` index) on a DB-API connection."""
    for name, cols in tables.items():
        body = ", ".join(f'"{c}" {sql_type(t)}' for c, t in cols)
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({body})')  # type: ignore[attr-defined]
        conn.execute(f'CREATE INDEX IF NOT EXISTS "ix_{name}_ts" ON "{name}" ("Timestamp")')  # type: ignore[attr-defined]
