"""Typed records of the MDE API: snake_case fields over camelCase wire names, unknown fields kept."""

from mdekit.models.actions import TERMINAL_STATUSES, FileInfo, MachineAction
from mdekit.models.alerts import Alert, AlertComment, Evidence, LoggedOnUser, RelatedUser
from mdekit.models.base import MdeModel, Timestamp
from mdekit.models.entities import DomainStats, File, FileStats, Investigation, IpStats
from mdekit.models.indicators import ImportResult, Indicator
from mdekit.models.machines import IpAddress, Machine, User, VmMetadata

__all__ = [
    "TERMINAL_STATUSES",
    "Alert",
    "AlertComment",
    "DomainStats",
    "Evidence",
    "File",
    "FileInfo",
    "FileStats",
    "ImportResult",
    "Indicator",
    "Investigation",
    "IpAddress",
    "IpStats",
    "LoggedOnUser",
    "Machine",
    "MachineAction",
    "MdeModel",
    "RelatedUser",
    "Timestamp",
    "User",
    "VmMetadata",
]
