"""Threat & vulnerability management API, in process: roles, shapes, OData, errors, consistency.

The seeded tenant (40 machines, seed 7) is the data; every check reads it through the API as a
client would, and cross-checks endpoints against each other and against the hunting rows.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from defender_helpers import Api
from fastapi.testclient import TestClient
from tvm_helpers import TVM_CALLS, tvm_ids, unrelated_role

from mdekit import models
from mdekit.catalog import OPERATIONS, find_operation
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.defender.tvm.hunting import TVM_HUNTING_TABLES, tvm_hunting_rows
from mdekit.emulator.state import EmulatorState

# Key orders of the documentation examples (service-facts-2 section 1.2).
VULNERABILITY_KEYS = [
    "id",
    "name",
    "description",
    "severity",
    "cvssV3",
    "cvssVector",
    "exposedMachines",
    "publishedOn",
    "updatedOn",
    "publicExploit",
    "exploitVerified",
    "exploitInKit",
    "exploitTypes",
    "exploitUris",
    "CveSupportability",
]
DTO_KEYS = [k for k in VULNERABILITY_KEYS if k not in ("cvssVector", "CveSupportability")]
SOFTWARE_KEYS = [
    "id",
    "name",
    "vendor",
    "weaknesses",
    "publicExploit",
    "activeAlert",
    "exposedMachines",
    "impactScore",
]
REFERENCE_KEYS = ["id", "computerDnsName", "osPlatform", "rbacGroupName"]
MACHINE_VULN_KEYS = [
    "id",
    "cveId",
    "machineId",
    "fixingKbId",
    "productName",
    "productVendor",
    "productVersion",
    "severity",
]
KB_KEYS = ["id", "name", "productsNames", "url", "machineMissedOn", "cveAddressed"]
RECOMMENDATION_KEYS = [
    "id",
    "productName",
    "recommendationName",
    "weaknesses",
    "vendor",
    "recommendedVersion",
    "recommendationCategory",
    "subCategory",
    "severityScore",
    "publicExploit",
    "activeAlert",
    "associatedThreats",
    "remediationType",
    "status",
    "configScoreImpact",
    "exposureImpact",
    "totalMachineCount",
    "exposedMachinesCount",
    "nonProductivityImpactedAssets",
    "relatedComponent",
    "tags",
    "exposedCriticalDevices",
]
REMEDIATION_KEYS = [
    "id",
    "title",
    "createdOn",
    "requesterId",
    "requesterEmail",
    "status",
    "statusLastModifiedOn",
    "description",
    "relatedComponent",
    "targetDevices",
    "rbacGroupNames",
    "fixedDevices",
    "requesterNotes",
    "dueOn",
    "category",
    "productivityImpactRemediationType",
    "priority",
    "completionMethod",
    "completerId",
    "completerEmail",
    "scid",
    "type",
    "productId",
    "vendorId",
    "nameId",
    "recommendedVersion",
    "recommendedVendor",
    "recommendedProgram",
]
AV_KEYS = [
    "id",
    "machineId",
    "computerDnsName",
    "osKind",
    "osPlatform",
    "osVersion",
    "avMode",
    "avSignatureVersion",
    "avEngineVersion",
    "avPlatformVersion",
    "lastSeenTime",
    "quickScanResult",
    "quickScanError",
    "quickScanTime",
    "fullScanResult",
    "fullScanError",
    "fullScanTime",
    "dataRefreshTimestamp",
    "avEngineUpdateTime",
    "avSignatureUpdateTime",
    "avPlatformUpdateTime",
    "avIsSignatureUpToDate",
    "avIsEngineUpToDate",
    "avIsPlatformUpToDate",
    "avSignaturePublishTime",
    "rbacGroupName",
    "rbacGroupId",
]
ASSET_VULN_KEYS = [
    "id",
    "deviceId",
    "rbacGroupName",
    "deviceName",
    "osPlatform",
    "osVersion",
    "osArchitecture",
    "softwareVendor",
    "softwareName",
    "softwareVersion",
    "cveId",
    "vulnerabilitySeverityLevel",
    "recommendedSecurityUpdate",
    "recommendedSecurityUpdateId",
    "recommendedSecurityUpdateUrl",
    "diskPaths",
    "registryPaths",
    "lastSeenTimestamp",
    "firstSeenTimestamp",
    "exploitabilityLevel",
    "recommendationReference",
    "securityUpdateAvailable",
    "cvssScore",
]
INVENTORY_KEYS = [
    "deviceId",
    "rbacGroupName",
    "deviceName",
    "osPlatform",
    "softwareVendor",
    "softwareName",
    "softwareVersion",
    "numberOfWeaknesses",
    "diskPaths",
    "registryPaths",
    "softwareFirstSeenTimestamp",
    "endOfSupportStatus",
    "endOfSupportDate",
]
CONFIG_KEYS = [
    "deviceId",
    "rbacGroupName",
    "deviceName",
    "osPlatform",
    "osVersion",
    "timestamp",
    "configurationId",
    "configurationCategory",
    "configurationSubcategory",
    "configurationImpact",
    "isCompliant",
    "isApplicable",
    "isExpectedUserImpact",
    "configurationName",
    "recommendationReference",
]
_CTX = "https://api.securitycenter.microsoft.com/api/$metadata#"


def ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def _since(state: EmulatorState, days: float = 1) -> str:
    return (state.clock.now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def ids(api: Api, state: EmulatorState) -> dict[str, str]:
    return tvm_ids(lambda path: ok(api.get(path)), _since(state))


def _all(api: Api, path: str) -> list[dict[str, Any]]:
    """Every item of a list, following @odata.nextLink."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    while url:
        body = ok(api.get(url))
        items += body["value"]
        link = body.get("@odata.nextLink")
        url = None if link is None else (urlsplit(link).path + "?" + urlsplit(link).query)
    return items


# ---- the catalogue and roles ---------------------------------------------------------------------


def test_every_tvm_call_is_its_catalogue_operation() -> None:
    for name, path in TVM_CALLS.items():
        op = OPERATIONS[name]
        found = find_operation("GET", path.split("?")[0].format(m="m1", cve="c", sw="s", rec="r", task="t"))
        assert found is not None and found[0] is op, name
        assert op.method == "GET" and op.resource == "WindowsDefenderATP"


@pytest.mark.parametrize("name", sorted(TVM_CALLS))
def test_operation_needs_its_role(
    name: str, api_for: Callable[..., Api], seeded: str, ids: dict[str, str]
) -> None:
    op = OPERATIONS[name]
    other = unrelated_role(name)
    path = TVM_CALLS[name].format(**ids)
    r = api_for(seeded, [other], name="no tvm role").get(path)
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "Forbidden" and error["target"] == r.headers["request-id"]
    assert error["message"] == (
        f"Missing application roles. API required roles: {', '.join(op.roles)}, application roles: {other}."
    )
    body = ok(api_for(seeded, [op.roles[-1]], name="one role").get(path))
    assert body["@odata.context"].startswith(_CTX)


def test_documented_limits_and_roles() -> None:
    assert OPERATIONS["vulnerabilities.by_machine"].limit.per_minute == 50
    assert OPERATIONS["exports.software_vulnerabilities_files"].limit.per_hour == 20
    assert OPERATIONS["machines.av_health"].roles == ("Machine.Read.All",)
    assert OPERATIONS["recommendations.software"].roles == ("Software.Read.All",)
    assert OPERATIONS["exports.secure_config"].roles == ("Vulnerability.Read.All",)


def test_file_export_rate_limit_answers_429(api: Api) -> None:
    codes = [api.get("/api/machines/SoftwareInventoryExport").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = api.get("/api/machines/SoftwareInventoryExport")
    assert r.json()["error"]["code"] == "TooManyRequests" and int(r.headers["retry-after"]) > 0


# ---- shapes --------------------------------------------------------------------------------------


def test_entity_shapes_follow_the_documentation(api: Api, ids: dict[str, str]) -> None:
    vulns = ok(api.get("/api/vulnerabilities"))
    assert vulns["@odata.context"] == _CTX + "Vulnerabilities"
    assert all(list(v) == VULNERABILITY_KEYS for v in vulns["value"])
    one = ok(api.get(f"/api/vulnerabilities/{ids['cve'].lower()}"))
    assert one["@odata.context"] == _CTX + "Vulnerabilities/$entity" and one["id"] == ids["cve"]
    machine_vulns = ok(api.get(f"/api/machines/{ids['m']}/vulnerabilities"))
    assert machine_vulns["@odata.context"].endswith(
        "#Collection(Analytics.Contracts.PublicAPI.PublicVulnerabilityDto)"
    )
    assert machine_vulns["value"] and all(list(v) == DTO_KEYS for v in machine_vulns["value"])
    software = ok(api.get(f"/api/Software/{ids['sw']}"))
    assert software["@odata.context"] == _CTX + "Software/$entity" and list(software)[1:] == SOFTWARE_KEYS
    assert all(
        list(r) == REFERENCE_KEYS
        for r in ok(api.get(f"/api/Software/{ids['sw']}/machineReferences"))["value"]
    )
    dist = ok(api.get(f"/api/Software/{ids['sw']}/distributions"))
    assert dist["@odata.context"] == _CTX + "Distributions"
    assert all(list(d) == ["version", "installations", "vulnerabilities"] for d in dist["value"])
    kbs = ok(api.get(f"/api/machines/{ids['m']}/getmissingkbs"))
    assert kbs["@odata.context"].endswith("#Collection(microsoft.windowsDefenderATP.api.PublicProductFixDto)")
    assert kbs["value"] and all(list(k) == KB_KEYS for k in kbs["value"])
    assert all(
        k["url"] == f"https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB{k['id']}"
        for k in kbs["value"]
    )
    rows = ok(api.get("/api/vulnerabilities/machinesVulnerabilities?$top=5"))
    assert rows["@odata.context"].endswith(
        "#Collection(microsoft.windowsDefenderATP.api.PublicAssetVulnerabilityDto)"
    )
    for row in rows["value"]:
        assert list(row) == MACHINE_VULN_KEYS
        assert row["id"] == "-_-".join(
            [row["machineId"], row["cveId"], row["productVendor"], row["productName"], row["productVersion"],
             row["fixingKbId"] or ""]
        )  # fmt: skip


def test_recommendation_remediation_score_and_av_shapes(api: Api, ids: dict[str, str]) -> None:
    recs = ok(api.get("/api/recommendations"))["value"]
    assert recs and all(list(r) == RECOMMENDATION_KEYS for r in recs)
    assert {r["remediationType"] for r in recs} <= {"Update", "ConfigurationChange"}
    assert any(r["id"].startswith("sca-_-scid-") for r in recs)
    rec = ok(api.get(f"/api/recommendations/{ids['rec']}"))
    assert rec["@odata.context"] == _CTX + "Recommendations/$entity"
    product = ok(api.get(f"/api/recommendations/{ids['rec']}/software"))
    assert product["@odata.context"] == _CTX + "Analytics.Contracts.PublicAPI.PublicProductDto"
    assert "value" not in product and list(product)[1:] == SOFTWARE_KEYS  # one object, not a collection
    tasks = ok(api.get("/api/remediationTasks"))["value"]
    assert tasks and all(list(t) == REMEDIATION_KEYS for t in tasks)
    score = ok(api.get("/api/exposureScore"))
    assert list(score) == ["@odata.context", "time", "score"] and score["@odata.context"].endswith(
        "ExposureScore/$entity"
    )
    groups = ok(api.get("/api/exposureScore/ByMachineGroups"))["value"]
    assert groups and all(list(g) == ["time", "score", "rbacGroupName"] for g in groups)
    config = ok(api.get("/api/configurationScore"))
    assert config["@odata.context"].endswith("ConfigurationScore/$entity") and isinstance(
        config["score"], int
    )
    av = ok(api.get("/api/deviceavinfo"))
    assert av["@odata.context"] == _CTX + "DeviceAvInfo" and all(list(a) == AV_KEYS for a in av["value"])
    assert all(a["id"] == a["machineId"] and a["avMode"] in ("0", "1", "2") for a in av["value"])
    assert {a["avIsSignatureUpToDate"] for a in av["value"]} <= {"True", "False", "Unknown"}


def test_typed_models_read_every_entity(api: Api, ids: dict[str, str]) -> None:
    vuln = models.Vulnerability.model_validate(ok(api.get(f"/api/vulnerabilities/{ids['cve']}")))
    assert vuln.cve_supportability == "supported" and vuln.cvss_v3 and vuln.published_on is not None
    assert vuln.to_wire()["CveSupportability"] == "supported"
    rec = models.Recommendation.model_validate(ok(api.get(f"/api/recommendations/{ids['rec']}")))
    assert rec.exposed_machines_count and "@odata.context" in (rec.model_extra or {})  # unknown fields kept
    task = models.RemediationTask.model_validate(ok(api.get(f"/api/remediationTasks/{ids['task']}")))
    assert task.target_devices is not None and task.created_on is not None
    row = ok(api.get("/api/machines/SoftwareVulnerabilitiesByMachine?$top=1"))["value"][0]
    asset = models.AssetVulnerability.model_validate(row)
    assert asset.device_id == row["deviceId"] and asset.last_seen_timestamp is not None
    av = models.DeviceAvInfo.model_validate(ok(api.get("/api/deviceavinfo?$top=1"))["value"][0])
    assert av.av_mode in ("0", "1", "2") and av.rbac_group_id is not None
    files = models.ExportFiles.model_validate(ok(api.get("/api/machines/SoftwareInventoryExport")))
    assert files.export_files and files.generated_time is not None


# ---- OData and errors ----------------------------------------------------------------------------


def test_filters_on_the_documented_properties(api: Api) -> None:
    critical = ok(api.get("/api/vulnerabilities?$filter=severity eq 'critical' and cvssV3 ge 9.5"))["value"]
    assert critical and all(v["severity"] == "Critical" and v["cvssV3"] >= 9.5 for v in critical)
    recent = ok(api.get("/api/vulnerabilities?$filter=publishedOn gt 2024-06-01T00:00:00Z"))["value"]
    assert recent and all(v["publishedOn"] > "2024-06-01" for v in recent)
    google = ok(api.get("/api/Software?$filter=vendor eq 'GOOGLE'"))["value"]
    assert [s["id"] for s in google] == ["google-_-chrome"]
    configs = ok(api.get("/api/recommendations?$filter=remediationType eq 'ConfigurationChange'"))["value"]
    assert configs and all(r["id"].startswith("sca-_-") for r in configs)
    rows = ok(
        api.get(
            "/api/vulnerabilities/machinesVulnerabilities"
            "?$filter=productName eq 'chrome' and severity eq 'High'"
        )
    )
    assert rows["value"] and all(
        r["productName"] == "chrome" and r["severity"] == "High" for r in rows["value"]
    )
    kb_rows = ok(api.get("/api/vulnerabilities/machinesVulnerabilities?$filter=startswith(fixingKbId,'50')"))[
        "value"
    ]
    assert kb_rows and all(r["fixingKbId"].startswith("50") for r in kb_rows)
    tasks = ok(api.get("/api/remediationTasks?$filter=status eq 'Completed'"))["value"]
    assert tasks and all(t["status"] == "Completed" for t in tasks)
    windows = ok(
        api.get("/api/deviceavinfo?$filter=osKind eq 'windows' and avIsSignatureUpToDate eq 'True'&$top=100")
    )
    assert windows["value"] and all(a["osKind"] == "windows" for a in windows["value"])


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/api/vulnerabilities?$filter=exposedMachines gt 1", "'exposedMachines' is not filterable"),
        ("/api/vulnerabilities?$top=8001", "The limit of '8000' for Top query has been exceeded"),
        ("/api/Software?$filter=weaknesses gt 1", "'weaknesses' is not filterable"),
        ("/api/deviceavinfo?$filter=rbacGroupName eq 'x'", "'rbacGroupName' is not filterable"),
        ("/api/recommendations?$filter=severityScore eq 'high'", "cannot be compared"),
        ("/api/vulnerabilities?$orderby=exposedMachines", "cannot be used in the $orderby"),
    ],
)
def test_bad_odata_is_a_400_in_the_mde_envelope(api: Api, path: str, fragment: str) -> None:
    r = api.get(path)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "ODataError" and fragment in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/vulnerabilities/CVE-1999-0001",
        "/api/vulnerabilities/CVE-1999-0001/machineReferences",
        "/api/Software/acme-_-nothing",
        "/api/Software/acme-_-nothing/distributions",
        "/api/recommendations/va-_-acme-_-nothing",
        "/api/recommendations/sca-_-scid-999999/software",
        "/api/remediationTasks/00000000-0000-0000-0000-000000000000",
        "/api/machines/0000000000000000000000000000000000000000/vulnerabilities",
        "/api/machines/no-such-host/getmissingkbs",
    ],
)
def test_unknown_ids_are_404_resource_not_found(api: Api, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "ResourceNotFound"


def test_paths_are_case_insensitive(api: Api, ids: dict[str, str]) -> None:
    assert ok(api.get(f"/api/software/{ids['sw'].upper()}"))["id"] == ids["sw"]
    assert ok(api.get("/API/Vulnerabilities/MachinesVulnerabilities?$top=1"))["value"]
    assert ok(api.get("/api/v1.0/machines/softwarevulnerabilitiesbymachine?$top=1"))["value"]


# ---- one consistent model ------------------------------------------------------------------------


def test_machine_vulnerabilities_and_machine_references_always_agree(api: Api) -> None:
    machines = [m["id"] for m in _all(api, "/api/machines")]
    by_machine = {
        m: {v["id"] for v in ok(api.get(f"/api/machines/{m}/vulnerabilities"))["value"]} for m in machines
    }
    vulns = ok(api.get("/api/vulnerabilities"))["value"]
    for vuln in vulns:
        refs = {r["id"] for r in ok(api.get(f"/api/vulnerabilities/{vuln['id']}/machineReferences"))["value"]}
        assert refs == {m for m, cves in by_machine.items() if vuln["id"] in cves}, vuln["id"]
        assert vuln["exposedMachines"] == len(refs)
    pairs = {(r["machineId"], r["cveId"]) for r in _all(api, "/api/vulnerabilities/machinesVulnerabilities")}
    assert pairs == {(m, c) for m, cves in by_machine.items() for c in cves}
    assert sum(v["exposedMachines"] for v in vulns) > 0


def test_software_recommendations_and_kbs_agree(api: Api) -> None:
    software = {s["id"]: s for s in ok(api.get("/api/Software"))["value"]}
    recs = {r["id"]: r for r in ok(api.get("/api/recommendations"))["value"]}
    for sid, item in software.items():
        dist = ok(api.get(f"/api/Software/{sid}/distributions"))["value"]
        refs = ok(api.get(f"/api/Software/{sid}/machineReferences"))["value"]
        assert sum(d["installations"] for d in dist) == len(refs)
        assert item["exposedMachines"] == sum(d["installations"] for d in dist if d["vulnerabilities"])
        cves = ok(api.get(f"/api/Software/{sid}/vulnerabilities"))["value"]
        assert item["weaknesses"] == len(cves)
        rec = recs.get(f"va-_-{sid}")
        if item["weaknesses"]:
            assert rec is not None and rec["exposedMachinesCount"] == item["exposedMachines"]
            assert rec["totalMachineCount"] == len(refs) and rec["exposureImpact"] == item["impactScore"]
            rec_refs = ok(api.get(f"/api/recommendations/va-_-{sid}/machineReferences"))["value"]
            assert len(rec_refs) == item["exposedMachines"]
            rec_cves = ok(api.get(f"/api/recommendations/va-_-{sid}/vulnerabilities"))["value"]
            assert {c["id"] for c in rec_cves} == {c["id"] for c in cves}
        else:
            assert rec is None
    kbs = ok(api.get("/api/Software/microsoft-_-windows_10/getmissingkbs"))["value"]
    for kb in kbs:
        rows = _all(api, f"/api/vulnerabilities/machinesVulnerabilities?$filter=fixingKbId eq '{kb['id']}'")
        assert kb["machineMissedOn"] == len({r["machineId"] for r in rows}) > 0
        assert kb["productsNames"] == ["windows_10"] and kb["name"].endswith(" Security Updates")


def test_scores_follow_the_machines(api: Api) -> None:
    score = ok(api.get("/api/exposureScore"))["score"]
    software = ok(api.get("/api/Software"))["value"]
    # the organization's score is what updating every product would remove
    assert score == pytest.approx(sum(s["impactScore"] for s in software), rel=1e-6)
    assert 0 < score <= 100
    config = ok(api.get("/api/configurationScore"))["score"]
    assert 0 < config < 1000
    sca = [r for r in ok(api.get("/api/recommendations"))["value"] if r["id"].startswith("sca-_-")]
    for rec in sca:
        refs = ok(api.get(f"/api/recommendations/{rec['id']}/machineReferences"))["value"]
        assert len(refs) == rec["exposedMachinesCount"] > 0


def test_remediation_machine_references_and_fixed_devices(api: Api) -> None:
    for task in ok(api.get("/api/remediationTasks"))["value"]:
        refs = ok(api.get(f"/api/remediationTasks/{task['id']}/machineReferences"))["value"]
        assert task["fixedDevices"] == max(0, task["targetDevices"] - len(refs))
        if task["productId"]:
            sw = ok(api.get(f"/api/Software/{task['productId']}"))
            assert len(refs) == sw["exposedMachines"]


# ---- exports -------------------------------------------------------------------------------------


def test_export_paging_with_page_size_and_skiptoken(api: Api) -> None:
    everything = ok(api.get("/api/machines/SoftwareVulnerabilitiesByMachine"))
    assert "@odata.nextLink" not in everything
    full = everything["value"]
    assert full and all(list(row) == ASSET_VULN_KEYS for row in full)
    pages, url = [], "/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=37"
    while url:
        body = ok(api.get(url))
        pages.append(body["value"])
        link = body.get("@odata.nextLink")
        if link:
            parts = urlsplit(link)
            assert (
                parts.netloc == "api.securitycenter.microsoft.com"
                and "pagesize=37&$skiptoken=" in parts.query
            )
            url = parts.path + "?" + parts.query
        else:
            url = None
    assert all(len(p) == 37 for p in pages[:-1]) and [r for p in pages for r in p] == full
    top = ok(api.get("/api/machines/SoftwareVulnerabilitiesByMachine?$top=10&pageSize=3"))
    assert len(top["value"]) == 10 and "@odata.nextLink" not in top
    nulls = [r for r in full if r["cveId"] is None]
    assert nulls and all(r["id"].endswith("__") and r["vulnerabilitySeverityLevel"] is None for r in nulls)
    windows = [r for r in full if r["recommendedSecurityUpdateId"]]
    assert windows and all(r["softwareName"].startswith("windows_") for r in windows)
    assert all(r["lastSeenTimestamp"][10] == " " and "T" not in r["lastSeenTimestamp"] for r in full)


def test_inventory_and_configuration_exports(api: Api) -> None:
    inventory = ok(api.get("/api/machines/SoftwareInventoryByMachine"))["value"]
    assert inventory and all(list(r) == INVENTORY_KEYS for r in inventory)
    installs = ok(api.get("/api/machines/SoftwareVulnerabilitiesByMachine"))["value"]
    assert {(r["deviceId"], r["softwareName"]) for r in inventory} == {
        (r["deviceId"], r["softwareName"]) for r in installs
    }
    win10 = [r for r in inventory if r["softwareName"] == "windows_10"]
    assert win10 and all(
        r["endOfSupportStatus"] == "EOS Software" and r["endOfSupportDate"] == "2025-10-14T00:00:00+00:00"
        for r in win10
    )
    configs = ok(api.get("/api/machines/SecureConfigurationsAssessmentByMachine?pageSize=1000"))["value"]
    assert configs and all(list(r) == CONFIG_KEYS for r in configs)
    assert any(r["isApplicable"] is False and r["isCompliant"] is False for r in configs)
    failing = {r["recommendationReference"] for r in configs if r["isApplicable"] and not r["isCompliant"]}
    sca = {r["id"] for r in ok(api.get("/api/recommendations"))["value"] if r["id"].startswith("sca-_-")}
    assert failing == sca


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("pageSize=0", "InvalidInput"),
        ("pageSize=200001", "InvalidInput"),
        ("pageSize=%C2%B2", "InvalidInput"),  # '²' passes str.isdigit(), not int()
        ("pageSize=" + "9" * 5000, "InvalidInput"),  # more digits than int() converts
        ("$skiptoken=not-a-token", "InvalidInput"),
        ("$filter=deviceId eq 'x'", "ODataError"),
    ],
)
def test_export_parameter_errors(api: Api, query: str, code: str) -> None:
    r = api.get(f"/api/machines/SoftwareInventoryByMachine?{query}")
    assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text


def test_delta_export_needs_a_recent_since_time(api: Api, state: EmulatorState) -> None:
    path = "/api/machines/SoftwareVulnerabilityChangesByMachine"
    missing = api.get(path)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingRequiredParameter"
    old = api.get(f"{path}?sinceTime={_since(state, 15)}")
    assert old.status_code == 400 and "14 days" in old.json()["error"]["message"]
    assert api.get(f"{path}?sinceTime=yesterday").status_code == 400
    assert ok(api.get(f"{path}?sinceTime={_since(state, 13)}"))["value"] == []  # a fresh seed has no history


def test_file_export_download(api: Api, client: TestClient, state: EmulatorState, tenant: str) -> None:
    body = ok(api.get("/api/machines/SecureConfigurationsAssessmentExport?sasValidHours=2"))
    assert body["@odata.context"] == _CTX + "microsoft.windowsDefenderATP.api.ExportFilesResponse"
    assert list(body) == ["@odata.context", "exportFiles", "generatedTime"]
    url = urlsplit(body["exportFiles"][0])
    assert f"/ScaExport/json/OrgId={tenant}/part-00000-" in url.path and url.path.endswith(".c000.json.gz")
    assert {"sv", "st", "se", "sr", "sp", "sig"} <= {p.split("=")[0] for p in url.query.split("&")}
    r = client.get(url.path + "?" + url.query)  # no Authorization header: the signature is the credential
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    lines = gzip.decompress(r.content).decode().splitlines()
    assert [json.loads(line) for line in lines] == ok(
        api.get("/api/machines/SecureConfigurationsAssessmentByMachine")
    )["value"]
    tampered = client.get(url.path.replace("part-00000", "part-00001") + "?" + url.query)
    assert tampered.status_code == 403 and "<Code>AuthenticationFailed</Code>" in tampered.text
    for bad in ("sasValidHours=7", "sasValidHours=0", "sasValidHours=x"):
        assert api.get(f"/api/machines/SoftwareInventoryExport?{bad}").status_code == 400
    state.clock.advance(2 * 3600 - 60)
    assert client.get(url.path + "?" + url.query).status_code == 200  # still within sasValidHours=2
    state.clock.advance(120)
    expired = client.get(url.path + "?" + url.query)
    assert expired.status_code == 403 and "Signature not valid in the specified time frame" in expired.text
    assert expired.headers["content-type"].startswith("application/xml")


# ---- control plane: install and remove software --------------------------------------------------


def _install(client: TestClient, tenant: str, machine: str, **body: Any) -> Any:
    return client.post(f"/_emulator/tenants/{tenant}/machines/{machine}/software", json=body)


def test_installing_software_makes_a_cve_appear_everywhere_and_removing_it_disappear(
    api: Api, client: TestClient, state: EmulatorState, seeded: str
) -> None:
    cve = "CVE-2024-3094"
    exposed = {m["id"] for m in ok(api.get(f"/api/vulnerabilities/{cve}/machineReferences"))["value"]}
    linux = next(
        m for m in _all(api, "/api/machines?$filter=osPlatform eq 'Linux'") if m["id"] not in exposed
    )
    before = ok(api.get(f"/api/vulnerabilities/{cve}"))["exposedMachines"]
    assert before == len(exposed)
    since = _since(state, 0.01)
    r = _install(
        client, seeded, linux["computerDnsName"].split(".")[0], vendor="Tukaani", name="xz", version="5.6.1"
    )
    assert r.status_code == 200, r.text
    assert {"vendor": "tukaani", "name": "xz", "version": "5.6.1"}.items() <= next(
        s for s in r.json()["value"] if s["name"] == "xz"
    ).items()
    assert cve in {v["id"] for v in ok(api.get(f"/api/machines/{linux['id']}/vulnerabilities"))["value"]}
    assert linux["id"] in {
        m["id"] for m in ok(api.get(f"/api/vulnerabilities/{cve}/machineReferences"))["value"]
    }
    assert ok(api.get(f"/api/vulnerabilities/{cve}"))["exposedMachines"] == before + 1
    rows = ok(
        api.get(
            "/api/vulnerabilities/machinesVulnerabilities"
            f"?$filter=cveId eq '{cve}' and machineId eq '{linux['id']}'"
        )
    )
    assert len(rows["value"]) == 1 and rows["value"][0]["productVersion"] == "5.6.1"
    exported = [
        r for r in ok(api.get("/api/machines/SoftwareVulnerabilitiesByMachine"))["value"] if r["cveId"] == cve
    ]
    assert linux["id"] in {r["deviceId"] for r in exported}
    assert ok(api.get(f"/api/machines/{linux['id']}"))["exposureLevel"] == "High"  # a CVSS 10 backdoor
    rows = list(tvm_hunting_rows(state.defender.tvm, seeded, "DeviceTvmSoftwareVulnerabilities"))
    assert (linux["id"], cve) in {(r["DeviceId"], r["CveId"]) for r in rows}
    delta = ok(api.get(f"/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime={since}"))["value"]
    assert {(d["status"], d["softwareVersion"], d["cveId"]) for d in delta} >= {("New", "5.6.1", cve)}
    assert all(d["deviceId"] == linux["id"] for d in delta)

    gone = client.delete(f"/_emulator/tenants/{seeded}/machines/{linux['id']}/software/tukaani/xz")
    assert gone.status_code == 204
    assert cve not in {v["id"] for v in ok(api.get(f"/api/machines/{linux['id']}/vulnerabilities"))["value"]}
    assert linux["id"] not in {
        m["id"] for m in ok(api.get(f"/api/vulnerabilities/{cve}/machineReferences"))["value"]
    }
    assert ok(api.get(f"/api/vulnerabilities/{cve}"))["exposedMachines"] == before
    delta = ok(api.get(f"/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime={since}"))["value"]
    assert ("Fixed", "5.6.1", cve) in {(d["status"], d["softwareVersion"], d["cveId"]) for d in delta}
    assert (
        client.delete(f"/_emulator/tenants/{seeded}/machines/{linux['id']}/software/tukaani/xz").status_code
        == 404
    )


def test_updating_windows_closes_its_missing_kbs(api: Api, client: TestClient, seeded: str) -> None:
    behind = ok(
        api.get("/api/vulnerabilities/machinesVulnerabilities?$filter=productName eq 'windows_10'&$top=1")
    )
    machine = behind["value"][0]["machineId"]
    kbs = ok(api.get(f"/api/machines/{machine}/getmissingkbs"))["value"]
    assert kbs and all(k["productsNames"] == ["windows_10"] for k in kbs)
    latest = "10.0.19045.5965"  # June 2025 (KB5060533)
    r = _install(client, seeded, machine, vendor="microsoft", name="windows_10", version=latest)
    assert r.status_code == 200
    assert ok(api.get(f"/api/machines/{machine}/getmissingkbs"))["value"] == []
    av = ok(api.get(f"/api/deviceavinfo?$filter=machineId eq '{machine}'"))["value"][0]
    assert av["osVersion"] == latest


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"vendor": "google", "name": "chrome"}, 400),
        ({"vendor": "google", "name": "chrome", "version": "1 2"}, 400),
        ({"vendor": "Goo gle", "name": "chrome", "version": "1"}, 400),
        ({"vendor": "google", "name": "chrome", "version": "1", "extra": 1}, 400),
    ],
)
def test_install_validation(
    client: TestClient, api: Api, seeded: str, body: dict[str, Any], status: int
) -> None:
    machine = ok(api.get("/api/machines?$top=1"))["value"][0]["id"]
    assert _install(client, seeded, machine, **body).status_code == status
    assert _install(client, seeded, "nope", vendor="a", name="b", version="1").status_code == 404


def test_seed_without_tvm(client: TestClient, api: Api, state: EmulatorState, seeded: str) -> None:
    r = client.post(f"/_emulator/tenants/{seeded}/seed", json={"machines": 5, "alerts": 0, "tvm": False})
    assert r.status_code == 200 and r.json()["softwareInstalls"] == 0
    assert ok(api.get("/api/Software"))["value"] == []
    assert all(v["exposedMachines"] == 0 for v in ok(api.get("/api/vulnerabilities"))["value"])
    assert ok(api.get("/api/deviceavinfo"))["value"] == []
    assert ok(api.get("/api/exposureScore"))["score"] == 0
    assert client.post(f"/_emulator/tenants/{seeded}/seed", json={"tvm": "yes"}).status_code == 400


def test_seed_is_deterministic(state: EmulatorState, tenant: str) -> None:
    def snapshot() -> list[Any]:
        seed_tenant(state.defender, tenant, machines=30, alerts=10, seed=3)
        rows = state.db.query(
            "SELECT machine_id, vendor, name, version, first_seen FROM tvm_installs WHERE tenant = ? "
            "ORDER BY machine_id, vendor, name",
            (tenant,),
        )
        return [tuple(r) for r in rows]

    first = snapshot()
    assert first and snapshot() == first


def test_device_av_info_pages_by_twenty(api: Api) -> None:
    first = ok(api.get("/api/deviceavinfo"))
    assert len(first["value"]) == 20 and "$skip=20" in first["@odata.nextLink"]
    everything = _all(api, "/api/deviceavinfo")
    assert len(everything) == 40 and len({a["id"] for a in everything}) == 40


# ---- hunting rows --------------------------------------------------------------------------------


def test_hunting_rows_match_the_api(api: Api, state: EmulatorState, seeded: str) -> None:
    tvm = state.defender.tvm
    for table, columns in TVM_HUNTING_TABLES.items():
        rows = list(tvm_hunting_rows(tvm, seeded, table))
        assert rows and all(list(r) == [c for c, _ in columns] for r in rows), table
    pairs = {
        (r["DeviceId"], r["CveId"]) for r in tvm_hunting_rows(tvm, seeded, "DeviceTvmSoftwareVulnerabilities")
    }
    api_pairs = {
        (r["machineId"], r["cveId"]) for r in _all(api, "/api/vulnerabilities/machinesVulnerabilities")
    }
    assert pairs == api_pairs
    inventory = list(tvm_hunting_rows(tvm, seeded, "DeviceTvmSoftwareInventory"))
    exported = ok(api.get("/api/machines/SoftwareInventoryByMachine"))["value"]
    assert [(r["DeviceId"], r["SoftwareName"], r["SoftwareVersion"]) for r in inventory] == [
        (r["deviceId"], r["softwareName"], r["softwareVersion"]) for r in exported
    ]
    assert all(r["OSVersion"] for r in inventory)
    kb = {r["CveId"]: r for r in tvm_hunting_rows(tvm, seeded, "DeviceTvmSoftwareVulnerabilitiesKB")}
    vulns = ok(api.get("/api/vulnerabilities"))["value"]
    assert set(kb) == {v["id"] for v in vulns}
    for v in vulns:
        assert (
            float(kb[v["id"]]["CvssScore"]) == v["cvssV3"]
            and kb[v["id"]]["IsExploitAvailable"] == v["publicExploit"]
        )
