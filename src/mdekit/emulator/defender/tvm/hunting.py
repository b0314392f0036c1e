"""Rows for the advanced-hunting TVM tables, from the same source as the API and the exports.

Columns and KQL types follow Microsoft's schema reference pages (``advanced-hunting-
devicetvmsoftwareinventory-table``, the two ``devicetvmsoftwarevulnerabilities`` pages and the two
``devicetvmsecureconfigurationassessment`` pages).
Values are plain Python: ``str``, ``bool``, ``datetime`` (aware, UTC) or ``None``, and ``list``
for ``dynamic`` columns; the hunting engine converts them to its storage form.

Usage (the hunting engine wires these in)::

    from mdekit.emulator.defender.tvm.hunting import TVM_HUNTING_TABLES, tvm_hunting_rows
    for row in tvm_hunting_rows(state.defender.tvm, tenant, "DeviceTvmSoftwareInventory"): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from mdekit.emulator.clock import parse_time
from mdekit.emulator.defender.tvm.configs import CONFIGS
from mdekit.emulator.defender.tvm.cves import CVES
from mdekit.emulator.defender.tvm.exports import export_rows
from mdekit.emulator.defender.tvm.store import TvmStore

__all__ = [
    "TVM_HUNTING_TABLES",
    "secure_configuration_kb_rows",
    "secure_configuration_rows",
    "software_inventory_rows",
    "software_vulnerability_kb_rows",
    "software_vulnerability_rows",
    "tvm_hunting_rows",
]

_S, _B, _T, _D, _R = "string", "bool", "datetime", "dynamic", "real"
_DEVICE = [
    ("DeviceId", _S),
    ("DeviceName", _S),
    ("OSPlatform", _S),
    ("OSVersion", _S),
    ("OSArchitecture", _S),
]
_SOFTWARE = [("SoftwareVendor", _S), ("SoftwareName", _S), ("SoftwareVersion", _S)]

#: Table -> [(column, KQL type)], in the schema pages' order.
TVM_HUNTING_TABLES: dict[str, list[tuple[str, str]]] = {
    "DeviceTvmSoftwareInventory": [
        *_DEVICE,
        *_SOFTWARE,
        ("EndOfSupportStatus", _S),
        ("EndOfSupportDate", _T),
        ("ProductCodeCpe", _S),
    ],
    "DeviceTvmSoftwareVulnerabilities": [
        *_DEVICE,
        *_SOFTWARE,
        ("CveId", _S),
        ("VulnerabilitySeverityLevel", _S),
        ("RecommendedSecurityUpdate", _S),
        ("RecommendedSecurityUpdateId", _S),
        ("CveTags", _D),
    ],
    "DeviceTvmSoftwareVulnerabilitiesKB": [
        ("CveId", _S),
        ("CvssScore", _S),  # a string on the schema page
        ("IsExploitAvailable", _B),
        ("VulnerabilitySeverityLevel", _S),
        ("LastModifiedTime", _T),
        ("PublishedDate", _T),
        ("VulnerabilityDescription", _S),
        ("AffectedSoftware", _D),
    ],
    # defender-xdr/advanced-hunting-devicetvmsecureconfigurationassessment-table.md
    "DeviceTvmSecureConfigurationAssessment": [
        ("DeviceId", _S),
        ("DeviceName", _S),
        ("OSPlatform", _S),
        ("Timestamp", _T),
        ("ConfigurationId", _S),
        ("ConfigurationCategory", _S),
        ("ConfigurationSubcategory", _S),
        ("ConfigurationImpact", _R),
        ("IsCompliant", _B),
        ("IsApplicable", _B),
        ("Context", _D),
        ("IsExpectedUserImpact", _B),
    ],
    # defender-xdr/advanced-hunting-devicetvmsecureconfigurationassessmentkb-table.md
    "DeviceTvmSecureConfigurationAssessmentKB": [
        ("ConfigurationId", _S),
        ("ConfigurationImpact", _R),
        ("ConfigurationName", _S),
        ("ConfigurationDescription", _S),
        ("RiskDescription", _S),
        ("ConfigurationCategory", _S),
        ("ConfigurationSubcategory", _S),
        ("ConfigurationBenchmarks", _D),
        ("Tags", _D),
        ("RemediationOptions", _S),
    ],
}


def _device(row: dict[str, Any], os_version: str | None) -> dict[str, Any]:
    return {
        "DeviceId": row["deviceId"],
        "DeviceName": row["deviceName"],
        "OSPlatform": row["osPlatform"],
        "OSVersion": os_version,
        "OSArchitecture": row.get("osArchitecture") or "x64",
    }


def _cpe(row: dict[str, Any]) -> str:
    """The product version's CPE 2.3 name."""
    return f"cpe:2.3:a:{row['softwareVendor']}:{row['softwareName']}:{row['softwareVersion']}:*:*:*:*:*:*:*"


def software_inventory_rows(store: TvmStore, tenant: str) -> Iterator[dict[str, Any]]:
    """``DeviceTvmSoftwareInventory``: one row per installed product version."""
    os_versions = store.os_versions(tenant)
    for row in export_rows(store, "inventory", tenant):
        eos = row["endOfSupportDate"]
        yield {
            **_device(row, os_versions.get(row["deviceId"])),
            "SoftwareVendor": row["softwareVendor"],
            "SoftwareName": row["softwareName"],
            "SoftwareVersion": row["softwareVersion"],
            "EndOfSupportStatus": "" if row["endOfSupportStatus"] == "None" else row["endOfSupportStatus"],
            "EndOfSupportDate": parse_time(eos) if eos else None,
            "ProductCodeCpe": _cpe(row),
        }


def software_vulnerability_rows(store: TvmStore, tenant: str) -> Iterator[dict[str, Any]]:
    """``DeviceTvmSoftwareVulnerabilities``: one row per (machine, product version, CVE)."""
    for row in export_rows(store, "vulnerabilities", tenant):
        if row["cveId"] is None:
            continue
        yield {
            **_device(row, row["osVersion"]),
            "SoftwareVendor": row["softwareVendor"],
            "SoftwareName": row["softwareName"],
            "SoftwareVersion": row["softwareVersion"],
            "CveId": row["cveId"],
            "VulnerabilitySeverityLevel": row["vulnerabilitySeverityLevel"],
            "RecommendedSecurityUpdate": row["recommendedSecurityUpdate"] or "",
            "RecommendedSecurityUpdateId": row["recommendedSecurityUpdateId"] or "",
            "CveTags": [],
        }


def _when(text: str) -> datetime:
    return parse_time(text).astimezone(UTC)


def software_vulnerability_kb_rows() -> Iterator[dict[str, Any]]:
    """``DeviceTvmSoftwareVulnerabilitiesKB``: every vulnerability TVM knows (tenant-independent)."""
    for cve in sorted(CVES, key=lambda c: c.id):
        yield {
            "CveId": cve.id,
            "CvssScore": f"{cve.cvss:g}",
            "IsExploitAvailable": cve.exploit in ("poc", "active"),
            "VulnerabilitySeverityLevel": cve.severity,
            "LastModifiedTime": _when(cve.updated),
            "PublishedDate": _when(cve.published),
            "VulnerabilityDescription": cve.description,
            # UNVERIFIED format: the schema page says only "list of all software products affected"
            "AffectedSoftware": sorted({f"{a.vendor} {a.product}" for a in cve.affected}),
        }


def secure_configuration_rows(store: TvmStore, tenant: str) -> Iterator[dict[str, Any]]:
    """``DeviceTvmSecureConfigurationAssessment``: one row per (machine, configuration), the
    secure configuration assessment export's rows."""
    for row in export_rows(store, "configurations", tenant):
        stamp = row["timestamp"]
        yield {
            "DeviceId": row["deviceId"],
            "DeviceName": row["deviceName"],
            "OSPlatform": row["osPlatform"],
            "Timestamp": _when(stamp.replace(" ", "T") + "Z") if stamp else None,
            "ConfigurationId": row["configurationId"],
            "ConfigurationCategory": row["configurationCategory"],
            "ConfigurationSubcategory": row["configurationSubcategory"] or "",
            "ConfigurationImpact": float(row["configurationImpact"]),
            "IsCompliant": bool(row["isCompliant"]),
            "IsApplicable": bool(row["isApplicable"]),
            "Context": [],  # UNVERIFIED: what the service puts here for these configurations
            "IsExpectedUserImpact": bool(row["isExpectedUserImpact"]),
        }


def secure_configuration_kb_rows() -> Iterator[dict[str, Any]]:
    """``DeviceTvmSecureConfigurationAssessmentKB``: every configuration TVM assesses."""
    for config in CONFIGS:
        yield {
            "ConfigurationId": config.id,
            "ConfigurationImpact": float(config.impact),
            "ConfigurationName": config.name,
            # UNVERIFIED: the shipped configurations carry no description, risk text, benchmarks,
            # tags or remediation text; they read as empty rather than invented.
            "ConfigurationDescription": "",
            "RiskDescription": "",
            "ConfigurationCategory": config.category,
            "ConfigurationSubcategory": config.subcategory,
            "ConfigurationBenchmarks": [],
            "Tags": [],
            "RemediationOptions": "",
        }


def tvm_hunting_rows(store: TvmStore, tenant: str, table: str) -> Iterator[dict[str, Any]]:
    """Rows of one of :data:`TVM_HUNTING_TABLES` for *tenant*."""
    if table == "DeviceTvmSoftwareInventory":
        return software_inventory_rows(store, tenant)
    if table == "DeviceTvmSoftwareVulnerabilities":
        return software_vulnerability_rows(store, tenant)
    if table == "DeviceTvmSoftwareVulnerabilitiesKB":
        return software_vulnerability_kb_rows()
    if table == "DeviceTvmSecureConfigurationAssessment":
        return secure_configuration_rows(store, tenant)
    if table == "DeviceTvmSecureConfigurationAssessmentKB":
        return secure_configuration_kb_rows()
    raise KeyError(table)
