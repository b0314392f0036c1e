"""The TVM families (vulnerabilities, software, recommendations, remediation, scores, exports)
against the emulator: in-process for the sync client, over the HTTPS socket for the async client
and for the file export download. Views of the same data must agree across endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mdekit.catalog import OPERATIONS
from mdekit.client.tvm import version_key
from mdekit.errors import ApiError, ConfigurationError, PermissionMissingError
from mdekit.models import AssetSoftware, AssetVulnerability, MachineReference

TVM_ROLES = [
    "Vulnerability.Read.All",
    "Software.Read.All",
    "SecurityRecommendation.Read.All",
    "RemediationTasks.Read.All",
    "Score.Read.All",
    "Machine.Read.All",
]


@pytest.fixture(scope="module")
def tvm_app(env: Any) -> dict[str, Any]:
    seeded = env.seed({"machines": 40, "alerts": 0, "seed": 7})
    assert seeded["softwareInstalls"] > 0
    return env.app(TVM_ROLES)


def _ids(refs: list[MachineReference]) -> set[str]:
    return {r.id for r in refs}


def test_vulnerability_views_agree(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app) as mde:
        vulns = mde.vulnerabilities.list().all()
        exposed = [v for v in vulns if v.exposed_machines]
        assert exposed and all(v.id.startswith("CVE-") for v in vulns)
        cve = max(exposed, key=lambda v: v.exposed_machines or 0)
        assert mde.vulnerabilities.get(cve.id).id == cve.id
        machines = _ids(mde.vulnerabilities.machines(cve.id).all())
        assert len(machines) == cve.exposed_machines
        rows = mde.vulnerabilities.by_machine_and_software(cve_id=cve.id).all()
        assert {r.machine_id for r in rows} == machines and {r.cve_id for r in rows} == {cve.id}
        some = sorted(machines)[0]
        assert cve.id in {v.id for v in mde.vulnerabilities.by_machine(some).all()}
        critical = mde.vulnerabilities.list(severity="Critical", min_cvss=9.0).all()
        expected = {v.id for v in vulns if v.severity == "Critical" and (v.cvss_v3 or 0) >= 9.0}
        assert {v.id for v in critical} == expected


def test_paging_follows_the_catalogue_page_limit(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app) as mde:
        everything = [v.id for v in mde.vulnerabilities.list()]
        paged = mde.vulnerabilities.list(page_size=7)
        pages = list(paged.pages())
        assert len(pages) > 1 and [v.id for p in pages for v in p.items] == everything
        with pytest.raises(ConfigurationError, match="8000"):  # vulnerabilities: $top at most 8,000
            mde.vulnerabilities.list(page_size=9000)


def test_software_views_agree(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app) as mde:
        products = mde.software.list().all()
        assert products
        product = max(products, key=lambda s: s.exposed_machines or 0)
        assert mde.software.get(product.id).name == product.name
        machines = _ids(mde.software.machines(product.id).all())
        versions = mde.software.distributions(product.id).all()
        assert machines and sum(d.installations or 0 for d in versions) == len(machines)
        one = sorted(machines)[0]
        assert product.id in {s.id for s in mde.software.by_machine(one).all()}
        weak = mde.software.vulnerabilities(product.id).all()
        assert len(weak) == (product.weaknesses or 0)
        assert mde.software.list(vendor=product.vendor).all()
        windows = mde.software.missing_kbs("microsoft-_-windows_10").all()
        assert windows and all(kb.id.isdigit() for kb in windows)
        behind = mde.vulnerabilities.by_machine_and_software(filter="fixingKbId ne null", limit=1).all()
        assert behind and mde.software.missing_kbs_by_machine(behind[0].machine_id or "").all()


def test_recommendations_remediation_scores(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app) as mde:
        recs = mde.recommendations.list(remediation_type="Update").all()
        assert recs and {r.remediation_type for r in recs} == {"Update"}
        rec = next(r for r in recs if r.id.startswith("va-_-"))
        assert mde.recommendations.get(rec.id).id == rec.id
        assert mde.recommendations.software(rec.id).name == rec.product_name
        machines = _ids(mde.recommendations.machines(rec.id).all())
        assert len(machines) == rec.exposed_machines_count
        assert {v.id for v in mde.recommendations.vulnerabilities(rec.id).all()}
        assert rec.id in {r.id for r in mde.recommendations.by_machine(sorted(machines)[0]).all()}
        tasks = mde.remediation.list().all()
        assert tasks and mde.remediation.get(tasks[0].id).title == tasks[0].title
        assert all(isinstance(r, MachineReference) for r in mde.remediation.machines(tasks[0].id))
        assert 0 <= (mde.scores.exposure().score or -1) <= 100
        assert 0 <= (mde.scores.configuration().score or -1) <= 1000
        assert all(g.rbac_group_name is not None for g in mde.scores.exposure_by_machine_groups())
        av = mde.machines.av_health().all()
        assert len(av) == 40 and len({a.machine_id for a in av}) == 40  # default pages of 20, linked


def test_json_exports_page_by_link_and_agree(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app) as mde:
        pager = mde.exports.software_vulnerabilities(page_size=40)
        pages = list(pager.pages())
        rows = [r for p in pages for r in p.items]
        assert len(pages) > 1 and all(isinstance(r, AssetVulnerability) for r in rows), len(rows)
        pairs = {(r.device_id, r.cve_id) for r in rows if r.cve_id}
        listed = mde.vulnerabilities.by_machine_and_software().all()
        assert pairs == {(r.machine_id, r.cve_id) for r in listed}
        inventory = mde.exports.software_inventory(limit=30).all()
        assert len(inventory) == 30 and all(r.software_name for r in inventory)
        assert mde.exports.secure_config(limit=5).all()
        changes = mde.exports.software_vulnerability_changes(since="2000-01-01T00:00:00Z")
        with pytest.raises(ApiError, match="14 days"):  # the service's own 400, one line
            changes.all()


def test_file_export_download_over_https(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app, socket=True) as mde:
        expected = [r.model_dump() for r in mde.exports.software_inventory()]
        rows = mde.exports.download("software")
        got = [r.model_dump() for r in rows]
        assert rows.files is not None and rows.files.export_files
        assert all(isinstance(r, AssetSoftware) for r in rows.all()[:3])
        assert sorted(got, key=repr) == sorted(expected, key=repr) and len(got) > 100
        assert len(mde.exports.download("vulnerabilities", limit=25).all()) == 25
        stale = mde.exports.files("config", sas_valid_hours=1)
        env.advance(2 * 3600)  # the links expire on the emulator's clock
        with pytest.raises(ApiError) as info:
            mde.exports.download("config", files=stale).all()
        assert info.value.status == 403 and "expired" in str(info.value) and "sig=" not in str(info.value)
        with pytest.raises(ConfigurationError, match="sas_valid_hours"):
            mde.exports.files("config", sas_valid_hours=7)
        with pytest.raises(ConfigurationError, match="unknown export"):
            mde.exports.files("alerts")  # type: ignore[arg-type]


async def test_async_client_tvm_over_https(env: Any, tvm_app: dict[str, Any]) -> None:
    async with env.aclient(tvm_app) as mde:
        vulns = [v async for v in mde.vulnerabilities.list(limit=5)]
        assert len(vulns) == 5
        assert (await mde.vulnerabilities.get(vulns[0].id)).id == vulns[0].id
        assert (await mde.scores.exposure()).score is not None
        rows = [r async for r in mde.exports.download("software", limit=40)]
        assert len(rows) == 40 and all(isinstance(r, AssetSoftware) for r in rows)
        pages = [p async for p in mde.exports.software_inventory(page_size=100).pages()]
        assert len(pages) > 1


# family method -> (a call that needs the operation, its operation)
_PREFLIGHT: list[tuple[str, Any]] = [
    ("vulnerabilities.list", lambda m: m.vulnerabilities.list().all()),
    ("vulnerabilities.machine_references", lambda m: m.vulnerabilities.machines("CVE-2024-38063").all()),
    ("software.list", lambda m: m.software.list().all()),
    ("software.distributions", lambda m: m.software.distributions("microsoft-_-edge").all()),
    ("recommendations.list", lambda m: m.recommendations.list().all()),
    ("remediation.list", lambda m: m.remediation.list().all()),
    ("scores.exposure", lambda m: m.scores.exposure()),
    ("machines.av_health", lambda m: m.machines.av_health().all()),
    ("exports.software_inventory", lambda m: m.exports.software_inventory().all()),
    ("exports.software_vulnerabilities_files", lambda m: m.exports.download("vulnerabilities").all()),
]


def test_permission_preflight_names_the_catalogue_roles(env: Any, tvm_app: dict[str, Any]) -> None:
    """Each call without its role is refused before sending, naming the catalogue's roles."""
    app = env.app(["Alert.Read.All"])
    env.control.delete("/_emulator/requests")
    with env.client(app) as mde:
        for name, call in _PREFLIGHT:
            with pytest.raises(PermissionMissingError) as info:
                call(mde)
            assert info.value.required == OPERATIONS[name].roles, name
            assert "not sent" in str(info.value)
    sent = [e["path"] for e in env.control.get("/_emulator/requests").json()["value"]]
    assert not [p for p in sent if p.startswith("/api/")]


def test_helpers_machines_below_a_version_and_missing_kbs(env: Any, tvm_app: dict[str, Any]) -> None:
    with env.client(tvm_app) as mde:
        spread = []
        for product in mde.software.list().all():
            versions = mde.software.distributions(product.id).all()
            if len(versions) > 1:
                spread = versions
                break
        assert spread, "the seed should install some product in several versions"
        top = max((d.version or "" for d in spread), key=version_key)
        rows = mde.software.machines_below(product.id, top)
        assert rows and all(version_key(r.software_version or "") < version_key(top) for r in rows)
        assert len(rows) == sum(d.installations or 0 for d in spread if d.version != top)
        assert {r.device_id for r in rows} <= _ids(mde.software.machines(product.id).all())
        kbs = mde.software.missing_kbs_per_machine()
        assert kbs
        for machine in sorted(kbs)[:3]:
            assert kbs[machine] == sorted(kb.id for kb in mde.software.missing_kbs_by_machine(machine).all())
        with pytest.raises(ConfigurationError, match="vendor-_-name"):
            mde.software.machines_below("edge", "1.0")


def test_version_key_orders_like_product_versions() -> None:
    ordered = ["1.2", "1.9", "1.10", "1.10.1", "24.09", "24.9.1", "124.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered


def test_vulnerability_changes_follow_a_removed_product(env: Any, tvm_app: dict[str, Any]) -> None:
    """Removing a vulnerable product (control plane) shows up as Fixed rows in the delta export."""
    with env.client(tvm_app) as mde:
        row = mde.vulnerabilities.by_machine_and_software(limit=1).all()[0]
        since = datetime.fromtimestamp(env.state.clock.time() - 60, UTC)
        path = f"/_emulator/tenants/{env.tid}/machines/{row.machine_id}/software"
        r = env.control.delete(f"{path}/{row.product_vendor}/{row.product_name}")
        assert r.status_code == 204, r.text
        changes = mde.exports.software_vulnerability_changes(since=since).all()
        fixed = {c.cve_id for c in changes if c.device_id == row.machine_id and c.status == "Fixed"}
        assert row.cve_id in fixed
        assert row.cve_id not in {v.id for v in mde.vulnerabilities.by_machine(row.machine_id or "").all()}
