"""Shared by the TVM tests: one call per catalogue operation and the real ids of a seeded tenant."""

from __future__ import annotations

from typing import Any

from mdekit.catalog import OPERATIONS

# operation -> path; {m} a machine with missing KBs, {cve} an exposed CVE, {sw} installed software,
# {rec} an active recommendation, {task} a remediation activity
TVM_CALLS: dict[str, str] = {
    "vulnerabilities.list": "/api/vulnerabilities",
    "vulnerabilities.by_machine_and_software": "/api/vulnerabilities/machinesVulnerabilities",
    "vulnerabilities.get": "/api/vulnerabilities/{cve}",
    "vulnerabilities.machine_references": "/api/vulnerabilities/{cve}/machineReferences",
    "vulnerabilities.by_machine": "/api/machines/{m}/vulnerabilities",
    "software.list": "/api/Software",
    "software.get": "/api/Software/{sw}",
    "software.vulnerabilities": "/api/Software/{sw}/vulnerabilities",
    "software.machine_references": "/api/Software/{sw}/machineReferences",
    "software.distributions": "/api/Software/{sw}/distributions",
    "software.missing_kbs": "/api/Software/{sw}/getmissingkbs",
    "software.by_machine": "/api/machines/{m}/software",
    "software.missing_kbs_by_machine": "/api/machines/{m}/getmissingkbs",
    "recommendations.list": "/api/recommendations",
    "recommendations.get": "/api/recommendations/{rec}",
    "recommendations.software": "/api/recommendations/{rec}/software",
    "recommendations.machine_references": "/api/recommendations/{rec}/machineReferences",
    "recommendations.vulnerabilities": "/api/recommendations/{rec}/vulnerabilities",
    "recommendations.by_machine": "/api/machines/{m}/recommendations",
    "remediation.list": "/api/remediationTasks",
    "remediation.get": "/api/remediationTasks/{task}",
    "remediation.machine_references": "/api/remediationTasks/{task}/machineReferences",
    "scores.exposure": "/api/exposureScore",
    "scores.exposure_by_machine_groups": "/api/exposureScore/ByMachineGroups",
    "scores.configuration": "/api/configurationScore",
    "machines.av_health": "/api/deviceavinfo",
    "exports.software_vulnerabilities": "/api/machines/SoftwareVulnerabilitiesByMachine",
    "exports.software_vulnerabilities_files": "/api/machines/SoftwareVulnerabilitiesExport",
    "exports.software_vulnerability_changes": (
        "/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime={since}"
    ),
    "exports.software_inventory": "/api/machines/SoftwareInventoryByMachine",
    "exports.software_inventory_files": "/api/machines/SoftwareInventoryExport",
    "exports.secure_config": "/api/machines/SecureConfigurationsAssessmentByMachine",
    "exports.secure_config_files": "/api/machines/SecureConfigurationsAssessmentExport",
}

#: Roles never needed by a TVM operation: one of them is the "unrelated" role of a 403 test.
UNRELATED_ROLES = ("Ti.ReadWrite", "Alert.Read.All")


def unrelated_role(op_name: str) -> str:
    """A role that does not allow *op_name*."""
    return next(r for r in UNRELATED_ROLES if r not in OPERATIONS[op_name].roles)


def tvm_ids(get: Any, since: str) -> dict[str, str]:
    """Real ids of a seeded tenant, found through the API (*get* is ``path -> JSON``);
    *since* is a ``sinceTime`` for the delta export (within the last 14 days)."""
    kbs = get("/api/Software/microsoft-_-windows_10/getmissingkbs")["value"]
    assert kbs, "the seed should leave some Windows 10 machines behind on updates"
    machine = None
    for row in get("/api/vulnerabilities/machinesVulnerabilities?$filter=fixingKbId ne null")["value"]:
        machine = row["machineId"]
        break
    assert machine is not None
    cve = next(v for v in get("/api/vulnerabilities")["value"] if v["exposedMachines"])
    rec = next(r for r in get("/api/recommendations")["value"] if r["id"].startswith("va-_-"))
    task = get("/api/remediationTasks")["value"][0]
    return {
        "m": machine,
        "cve": cve["id"],
        "sw": f"{rec['vendor']}-_-{rec['productName']}",
        "rec": rec["id"],
        "task": task["id"],
        "since": since,
    }
