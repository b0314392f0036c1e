"""Typed records of the MDE API: snake_case fields over camelCase wire names, unknown fields kept."""

from mdekit.models.actions import TERMINAL_STATUSES, FileInfo, MachineAction
from mdekit.models.alerts import Alert, AlertComment, Evidence, LoggedOnUser, RelatedUser
from mdekit.models.base import MdeModel, Timestamp
from mdekit.models.entities import DomainStats, File, FileStats, Investigation, IpStats
from mdekit.models.indicators import ImportResult, Indicator
from mdekit.models.machines import IpAddress, Machine, User, VmMetadata
from mdekit.models.tvm import (
    AssetConfiguration,
    AssetSoftware,
    AssetVulnerability,
    ConfigurationScore,
    DeltaAssetVulnerability,
    DeviceAvInfo,
    ExportFiles,
    ExposureScore,
    MachineReference,
    MachineVulnerability,
    MissingKb,
    Recommendation,
    RemediationTask,
    Software,
    SoftwareDistribution,
    Vulnerability,
)

__all__ = [
    "TERMINAL_STATUSES",
    "Alert",
    "AlertComment",
    "AssetConfiguration",
    "AssetSoftware",
    "AssetVulnerability",
    "ConfigurationScore",
    "DeltaAssetVulnerability",
    "DeviceAvInfo",
    "DomainStats",
    "Evidence",
    "ExportFiles",
    "ExposureScore",
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
    "MachineReference",
    "MachineVulnerability",
    "MdeModel",
    "MissingKb",
    "Recommendation",
    "RelatedUser",
    "RemediationTask",
    "Software",
    "SoftwareDistribution",
    "Timestamp",
    "User",
    "VmMetadata",
    "Vulnerability",
]
