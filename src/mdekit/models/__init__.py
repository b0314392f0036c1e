"""Typed records of the MDE, Defender XDR and Graph security APIs: snake_case fields over camelCase
wire names, unknown fields kept."""

from mdekit.models.actions import TERMINAL_STATUSES, FileInfo, MachineAction
from mdekit.models.alerts import Alert, AlertComment, Evidence, LoggedOnUser, RelatedUser
from mdekit.models.base import MdeModel, Timestamp
from mdekit.models.entities import DomainStats, File, FileStats, Investigation, IpStats
from mdekit.models.graph_security import (
    EVIDENCE_TYPES,
    AlertEvidence,
    DeviceEvidence,
    FileDetails,
    FileEvidence,
    GraphAlert,
    GraphAlertComment,
    GraphIncident,
    GraphModel,
    IpEvidence,
    ProcessEvidence,
    RegistryKeyEvidence,
    RegistryValueEvidence,
    UrlEvidence,
    UserAccount,
    UserEvidence,
    evidence_from_wire,
)
from mdekit.models.incidents import Incident, IncidentAlert, IncidentComment, IncidentDevice, IncidentEntity
from mdekit.models.indicators import ImportResult, Indicator
from mdekit.models.live import (
    LibraryFile,
    LiveResponseCommand,
    LiveResponseParam,
    LiveResponseRequest,
    ScriptTranscript,
)
from mdekit.models.machines import IpAddress, Machine, User, VmMetadata

__all__ = [
    "EVIDENCE_TYPES",
    "TERMINAL_STATUSES",
    "Alert",
    "AlertComment",
    "AlertEvidence",
    "DeviceEvidence",
    "DomainStats",
    "Evidence",
    "File",
    "FileDetails",
    "FileEvidence",
    "FileInfo",
    "FileStats",
    "GraphAlert",
    "GraphAlertComment",
    "GraphIncident",
    "GraphModel",
    "ImportResult",
    "Incident",
    "IncidentAlert",
    "IncidentComment",
    "IncidentDevice",
    "IncidentEntity",
    "Indicator",
    "Investigation",
    "IpAddress",
    "IpEvidence",
    "IpStats",
    "LibraryFile",
    "LiveResponseCommand",
    "LiveResponseParam",
    "LiveResponseRequest",
    "LoggedOnUser",
    "Machine",
    "MachineAction",
    "MdeModel",
    "ProcessEvidence",
    "RegistryKeyEvidence",
    "RegistryValueEvidence",
    "RelatedUser",
    "ScriptTranscript",
    "Timestamp",
    "UrlEvidence",
    "User",
    "UserAccount",
    "UserEvidence",
    "VmMetadata",
    "evidence_from_wire",
]
