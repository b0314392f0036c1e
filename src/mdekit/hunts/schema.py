"""The advanced-hunting tables of Defender for Endpoint, for ``mde hunt --schema``.

Names as Microsoft's schema reference lists them (``defender-xdr/advanced-hunting-schema-tables``);
the descriptions are short summaries of each table's page. Columns are not kept here: ``mde hunt
--schema TABLE`` asks the service (``TABLE | getschema``), so they are always the tenant's own.
"""

from __future__ import annotations

import re

__all__ = ["HUNTING_TABLES", "schema_query"]

#: Table -> what its rows are.
HUNTING_TABLES: dict[str, str] = {
    "AlertInfo": "Alerts from Microsoft Defender services: title, category, severity, source",
    "AlertEvidence": "Files, processes, IPs, URLs, users and devices tied to each alert",
    "DeviceInfo": "Machine information: OS, onboarding, exposure, sensor health, tags",
    "DeviceNetworkInfo": "Network adapters: addresses, gateways, DNS servers, connected networks",
    "DeviceProcessEvents": "Process creation, with the initiating (parent) process",
    "DeviceNetworkEvents": "Network connections, listeners and DNS activity",
    "DeviceFileEvents": "File creation, modification and other file system events",
    "DeviceRegistryEvents": "Registry key and value creation, modification and deletion",
    "DeviceLogonEvents": "Sign-ins and other authentication events on machines",
    "DeviceImageLoadEvents": "DLL (image) loads",
    "DeviceEvents": "Other events: antivirus, exploit protection, ASR, API calls, ...",
    "DeviceFileCertificateInfo": "Certificates of signed files seen on machines",
    "DeviceTvmSoftwareInventory": "Installed software, with end-of-support information",
    "DeviceTvmSoftwareVulnerabilities": "Vulnerabilities (CVEs) of the installed software",
    "DeviceTvmSoftwareVulnerabilitiesKB": "The vulnerabilities known to vulnerability management",
    "DeviceTvmSecureConfigurationAssessment": "Security configuration checks per machine",
    "DeviceTvmSecureConfigurationAssessmentKB": "The security configurations that are assessed",
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def schema_query(table: str) -> str:
    """The KQL that lists *table*'s columns and types (``ValueError`` for a name that is not one)."""
    if not _NAME.fullmatch(table):
        raise ValueError(f"not a table name: {table!r}")
    return f"{table} | getschema | project ColumnName, ColumnType"
