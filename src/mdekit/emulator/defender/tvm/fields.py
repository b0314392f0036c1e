"""Each TVM list's ``$filter`` properties, as its documentation page names them.

Lists computed per request (vulnerabilities, software, recommendations) use plain column names
(:func:`mdekit.emulator.defender.tvm.listing.filter_items`); the stored ones name SQL columns.
"""

from __future__ import annotations

from mdekit.emulator.defender.odata import Field
from mdekit.enums import TVM_SEVERITIES

__all__ = [
    "AV_FIELDS",
    "MACHINE_VULN_FIELDS",
    "RECOMMENDATION_FIELDS",
    "REMEDIATION_FIELDS",
    "SEVERITIES",
    "SOFTWARE_FIELDS",
    "VULNERABILITY_FIELDS",
]

SEVERITIES = TVM_SEVERITIES

# get-all-vulnerabilities: id, name, description, cvssV3, publishedOn, severity, updatedOn.
VULNERABILITY_FIELDS = {
    "id": Field("id"),
    "name": Field("name"),
    "description": Field("description"),
    "cvssV3": Field("cvss_v3", "float"),
    "publishedOn": Field("published_on", "datetime"),
    "severity": Field("severity", "enum", SEVERITIES),
    "updatedOn": Field("updated_on", "datetime"),
}

# get-all-vulnerabilities-by-machines: id, cveId, machineId, fixingKbId, productName,
# productVersion, severity, productVendor (over tvm_installs i JOIN tvm_version_cves v).
MACHINE_VULN_FIELDS = {
    "id": Field(
        "(i.machine_id || '-_-' || v.cve_id || '-_-' || i.vendor || '-_-' || i.name || '-_-' || i.version "
        "|| '-_-' || coalesce(v.kb, '')) COLLATE NOCASE"
    ),
    "cveId": Field("v.cve_id COLLATE NOCASE"),
    "machineId": Field("i.machine_id"),
    "fixingKbId": Field("v.kb"),
    "productName": Field("i.name COLLATE NOCASE"),
    "productVersion": Field("i.version COLLATE NOCASE"),
    "severity": Field("v.severity", "enum", SEVERITIES),
    "productVendor": Field("i.vendor COLLATE NOCASE"),
}

# get-software: id, name, vendor.
SOFTWARE_FIELDS = {"id": Field("id"), "name": Field("name"), "vendor": Field("vendor")}

# get-all-recommendations.
RECOMMENDATION_FIELDS = {
    "id": Field("id"),
    "productName": Field("product_name"),
    "vendor": Field("vendor"),
    "recommendedVersion": Field("recommended_version"),
    "recommendationCategory": Field("recommendation_category"),
    "subCategory": Field("sub_category"),
    "severityScore": Field("severity_score", "float"),
    "remediationType": Field("remediation_type"),
    "recommendedProgram": Field("recommended_program"),
    "recommendedVendor": Field("recommended_vendor"),
    "status": Field("status", "enum", ("Active", "Exception")),
}

# get-remediation-all-activities: createdon, status (tvm_remediation columns).
REMEDIATION_FIELDS = {
    "createdOn": Field("created_on", "datetime"),
    "status": Field("status", "enum", ("Active", "Completed")),
}

# device-health-export-antivirus-health-report-api (not rbacGroupName, not id).
AV_FIELDS = {
    "machineId": Field("machine_id"),
    "computerDnsName": Field("computer_dns_name"),
    "osKind": Field("os_kind"),
    "osPlatform": Field("os_platform"),
    "osVersion": Field("os_version"),
    "avMode": Field("av_mode"),
    "avSignatureVersion": Field("av_signature_version"),
    "avEngineVersion": Field("av_engine_version"),
    "avPlatformVersion": Field("av_platform_version"),
    "quickScanResult": Field("quick_scan_result"),
    "quickScanError": Field("quick_scan_error"),
    "fullScanResult": Field("full_scan_result"),
    "fullScanError": Field("full_scan_error"),
    "avIsSignatureUpToDate": Field("av_is_signature_up_to_date"),
    "avIsEngineUpToDate": Field("av_is_engine_up_to_date"),
    "avIsPlatformUpToDate": Field("av_is_platform_up_to_date"),
    "rbacGroupId": Field("rbac_group_id", "int"),
}
