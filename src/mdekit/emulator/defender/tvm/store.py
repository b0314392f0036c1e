"""TVM data per tenant: installed software (stored), vulnerabilities (derived), AV health, remediation.

Every method names the tenant. Vulnerabilities are ``tvm_installs JOIN tvm_version_cves`` (see
:mod:`.schema`); :meth:`TvmStore.install` and :meth:`TvmStore.uninstall` change one row, record the
New/Fixed events the delta export reports and keep the machine's ``exposureLevel`` in step.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.listing import ListQuery, decode, order_sql, run_list
from mdekit.emulator.defender.machines import MachineStore
from mdekit.emulator.defender.tvm.assess import config_checks, cves_for, exposure_level, version_weight
from mdekit.emulator.defender.tvm.cves import CVES
from mdekit.emulator.defender.tvm.products import OS_PRODUCT
from mdekit.emulator.defender.tvm.schema import GLOBAL_TABLES, TVM_SCHEMA, TVM_TABLES
from mdekit.emulator.defender.tvm.seed import TvmSeed

__all__ = ["Install", "TvmStore"]

Install = tuple[str, str, str, str]  # vendor, name, version, first_seen
Version = tuple[str, str, str]  # vendor, name, version

_META_KEY = "tvm_catalogue"
_AV_COLUMNS = (
    "computerDnsName",
    "osKind",
    "osPlatform",
    "osVersion",
    "avMode",
    "avSignatureVersion",
    "avEngineVersion",
    "avPlatformVersion",
    "quickScanResult",
    "quickScanError",
    "fullScanResult",
    "fullScanError",
    "avIsSignatureUpToDate",
    "avIsEngineUpToDate",
    "avIsPlatformUpToDate",
    "rbacGroupId",
)
_OS_NAMES = {name for _, name in OS_PRODUCT.values()}
_ONE = "tenant = ? AND machine_id = ? AND vendor = ? AND name = ?"
_FIND = f"SELECT version, first_seen FROM tvm_installs WHERE {_ONE}"
_DELETE = f"DELETE FROM tvm_installs WHERE {_ONE}"
#: An install's CVEs: ``tvm_installs i`` joined to ``tvm_version_cves v`` on the product version.
SAME_VERSION = "v.vendor = i.vendor AND v.name = i.name AND v.version = i.version"


def _catalogue_digest() -> str:
    return hashlib.sha256(repr(CVES).encode()).hexdigest()[:16]


class TvmStore:
    """Threat & vulnerability management records over the shared database."""

    TABLES = TVM_TABLES

    def __init__(self, db: Database, clock: VirtualClock, machines: MachineStore) -> None:
        self.db = db
        self.clock = clock
        self.machines = machines
        db.script(TVM_SCHEMA)
        self._assessed: set[Version] = set()
        self._sync_catalogue()

    # -- the version -> CVE table ---------------------------------------------------------------
    def _sync_catalogue(self) -> None:
        """Rebuild the version table when the shipped CVE records changed (a newer emulator)."""
        digest = _catalogue_digest()
        with self.db.tx() as c:
            if self.db.get_meta(_META_KEY) != digest:
                for table in GLOBAL_TABLES:
                    c.execute(f"DELETE FROM {table}")
                installed = c.execute("SELECT DISTINCT vendor, name, version FROM tvm_installs").fetchall()
                self._assess(c, (tuple(r) for r in installed))
                c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (_META_KEY, dumps(digest)))
            rows = c.execute("SELECT vendor, name, version FROM tvm_versions").fetchall()
        self._assessed = {(r[0], r[1], r[2]) for r in rows}

    def _assess(self, c: sqlite3.Connection, versions: Iterable[Version]) -> None:
        """Record the CVEs of every version not assessed yet (inside the caller's transaction)."""
        new = {v for v in versions if v not in self._assessed}
        if not new:
            return
        c.executemany("INSERT OR IGNORE INTO tvm_versions VALUES (?, ?, ?)", sorted(new))
        c.executemany(
            "INSERT OR IGNORE INTO tvm_version_cves VALUES (?, ?, ?, ?, ?, ?)",
            [
                (vendor, name, version, cve.id, cve.severity, hit.kb)
                for vendor, name, version in sorted(new)
                for cve, hit in cves_for(vendor, name, version)
            ],
        )
        self._assessed |= new

    # -- writes -----------------------------------------------------------------------------------
    def insert_seed(self, c: sqlite3.Connection, tenant: str, seed: TvmSeed) -> None:
        """Write a seed's TVM rows inside the seeding transaction."""
        self._assess(c, {(v, n, ver) for _, v, n, ver, _ in seed.installs})
        c.executemany(
            "INSERT INTO tvm_installs (tenant, machine_id, vendor, name, version, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(tenant, *row) for row in seed.installs],
        )
        c.executemany(
            "INSERT INTO tvm_device_av (tenant, machine_id, computer_dns_name, os_kind, os_platform, "
            "os_version, "
            "av_mode, av_signature_version, av_engine_version, av_platform_version, quick_scan_result, "
            "quick_scan_error, full_scan_result, full_scan_error, av_is_signature_up_to_date, "
            "av_is_engine_up_to_date, av_is_platform_up_to_date, rbac_group_id, data) "
            f"VALUES (?, ?, {', '.join('?' * len(_AV_COLUMNS))}, ?)",
            [(tenant, av["machineId"], *(av[k] for k in _AV_COLUMNS), dumps(av)) for av in seed.device_av],
        )
        c.executemany(
            "INSERT INTO tvm_remediation (tenant, id, created_on, status, data) VALUES (?, ?, ?, ?, ?)",
            [(tenant, t["id"], t["createdOn"], t["status"], dumps(t)) for t in seed.remediation],
        )

    def install(self, tenant: str, machine_id: str, vendor: str, name: str, version: str) -> dict[str, Any]:
        """Install (or change the version of) a product on a machine; returns the install."""
        now = format_odata_time(self.clock.now())
        with self.db.tx() as c:
            self._assess(c, [(vendor, name, version)])
            old = c.execute(_FIND, (tenant, machine_id, vendor, name)).fetchone()
            if old is not None and old[0] == version:
                return {"vendor": vendor, "name": name, "version": version, "firstSeen": old[1]}
            if old is not None:
                self._events(c, tenant, machine_id, (vendor, name, old[0], old[1]), "Fixed", now)
                c.execute(_DELETE, (tenant, machine_id, vendor, name))
            c.execute(
                "INSERT INTO tvm_installs (tenant, machine_id, vendor, name, version, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (tenant, machine_id, vendor, name, version, now),
            )
            self._events(c, tenant, machine_id, (vendor, name, version, now), "New", now)
            if name in _OS_NAMES:
                c.execute(
                    "UPDATE tvm_device_av SET os_version = ?, data = json_set(data, '$.osVersion', ?) "
                    "WHERE tenant = ? AND machine_id = ?",
                    (version, version, tenant, machine_id),
                )
            self._refresh_exposure(c, tenant, machine_id)
        return {"vendor": vendor, "name": name, "version": version, "firstSeen": now}

    def uninstall(self, tenant: str, machine_id: str, vendor: str, name: str) -> bool:
        """Remove a product from a machine; ``False`` if it was not installed."""
        now = format_odata_time(self.clock.now())
        with self.db.tx() as c:
            old = c.execute(_FIND, (tenant, machine_id, vendor, name)).fetchone()
            if old is None:
                return False
            self._events(c, tenant, machine_id, (vendor, name, old[0], old[1]), "Fixed", now)
            c.execute(_DELETE, (tenant, machine_id, vendor, name))
            self._refresh_exposure(c, tenant, machine_id)
        return True

    def _events(
        self, c: sqlite3.Connection, tenant: str, machine_id: str, install: Install, status: str, now: str
    ) -> None:
        vendor, name, version, first_seen = install
        hits = cves_for(vendor, name, version) or ((None, None),)
        c.executemany(
            "INSERT INTO tvm_changes (tenant, event_time, status, machine_id, vendor, name, version, cve_id, "
            "kb, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    tenant,
                    now,
                    status,
                    machine_id,
                    vendor,
                    name,
                    version,
                    cve.id if cve else None,
                    hit.kb if hit else None,
                    first_seen,
                )
                for cve, hit in hits
            ],
        )

    def _refresh_exposure(self, c: sqlite3.Connection, tenant: str, machine_id: str) -> None:
        """Keep the machine's ``exposureLevel`` equal to what its installed versions imply."""
        exposure = sum(version_weight(v, n, ver) for v, n, ver, _ in self.installs_of(tenant, machine_id))
        machine = self.machines.get(tenant, machine_id)
        if machine is not None and machine.get("exposureLevel") != exposure_level(exposure):
            machine["exposureLevel"] = exposure_level(exposure)
            self.machines.save(tenant, machine)

    # -- reads: installs ---------------------------------------------------------------------------
    def installs_of(self, tenant: str, machine_id: str) -> list[Install]:
        """A machine's installed products, by vendor and name (sees the caller's open transaction)."""
        rows = self.db.query(
            "SELECT vendor, name, version, first_seen FROM tvm_installs WHERE tenant = ? AND machine_id = ? "
            "ORDER BY vendor, name",
            (tenant, machine_id),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def distribution(self, tenant: str) -> dict[Version, int]:
        """How many machines have each product version (one index-only pass)."""
        rows = self.db.query(
            "SELECT vendor, name, version, COUNT(*) FROM tvm_installs WHERE tenant = ? "
            "GROUP BY vendor, name, version",
            (tenant,),
        )
        return {(r[0], r[1], r[2]): int(r[3]) for r in rows}

    def distribution_by_group(self, tenant: str) -> dict[str | None, tuple[dict[Version, int], int]]:
        """Per machine group (``rbacGroupName``): its version distribution and machine count."""
        rows = self.db.query(
            "SELECT json_extract(m.data, '$.rbacGroupName'), i.vendor, i.name, i.version, COUNT(*), "
            "COUNT(DISTINCT i.machine_id) FROM tvm_installs i JOIN def_machines m ON m.tenant = i.tenant "
            "AND m.id = i.machine_id WHERE i.tenant = ? GROUP BY 1, 2, 3, 4",
            (tenant,),
        )
        sizes = self.db.query(
            "SELECT json_extract(m.data, '$.rbacGroupName'), COUNT(*) FROM def_machines m WHERE m.tenant = ? "
            "AND EXISTS (SELECT 1 FROM tvm_installs i WHERE i.tenant = m.tenant AND i.machine_id = m.id) "
            "GROUP BY 1",
            (tenant,),
        )
        out: dict[str | None, tuple[dict[Version, int], int]] = {g: ({}, int(c)) for g, c in sizes}
        for group, vendor, name, version, count, _ in rows:
            out.setdefault(group, ({}, 0))[0][(vendor, name, version)] = int(count)
        return out

    def machine_count(self, tenant: str) -> int:
        """Machines with any installed software (the fleet TVM assesses)."""
        row = self.db.query_one(
            "SELECT COUNT(DISTINCT machine_id) FROM tvm_installs WHERE tenant = ?", (tenant,)
        )
        return int(row[0]) if row else 0

    def cve_exposure(self, tenant: str) -> dict[str, int]:
        """Distinct exposed machines per CVE (a machine with two affected products counts once)."""
        rows = self.db.query(
            # CROSS JOIN: from the few (version, CVE) rows to the installs of those versions only
            "SELECT v.cve_id, COUNT(DISTINCT i.machine_id) FROM tvm_version_cves v CROSS JOIN tvm_installs i "
            f"WHERE i.tenant = ? AND {SAME_VERSION} GROUP BY v.cve_id",
            (tenant,),
        )
        return {r[0]: int(r[1]) for r in rows}

    def machines_with_cve(self, tenant: str, cve_id: str) -> list[str]:
        """Ids of machines exposed to *cve_id*."""
        rows = self.db.query(
            "SELECT DISTINCT i.machine_id FROM tvm_version_cves v CROSS JOIN tvm_installs i "
            f"WHERE v.cve_id = ? AND i.tenant = ? AND {SAME_VERSION}",
            (cve_id, tenant),
        )
        return [r[0] for r in rows]

    def machines_with_product(
        self, tenant: str, vendor: str, name: str, *, vulnerable: bool = False
    ) -> list[str]:
        """Ids of machines with *vendor*/*name* installed (only at a vulnerable version if asked)."""
        join = f" AND EXISTS (SELECT 1 FROM tvm_version_cves v WHERE {SAME_VERSION})" if vulnerable else ""
        rows = self.db.query(
            "SELECT i.machine_id FROM tvm_installs i WHERE i.tenant = ? AND i.vendor = ? "
            f"AND i.name = ?{join}",
            (tenant, vendor, name),
        )
        return [r[0] for r in rows]

    def references(self, tenant: str, machine_ids: Iterable[str]) -> list[dict[str, Any]]:
        """``MachineReference`` entities for machine ids, in machine order."""
        ids = list(dict.fromkeys(machine_ids))
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.db.query(
                "SELECT id, computer_dns_name, os_platform, json_extract(data, '$.rbacGroupName') AS g "
                f"FROM def_machines WHERE tenant = ? AND id IN ({','.join('?' * len(chunk))})",
                (tenant, *chunk),
            )
            out.extend(
                {"id": r[0], "computerDnsName": r[1], "osPlatform": r[2], "rbacGroupName": r[3]} for r in rows
            )
        order = {m: k for k, m in enumerate(ids)}
        out.sort(key=lambda ref: order[ref["id"]])
        return out

    def critical_exposed(self, tenant: str) -> dict[tuple[str, str], int]:
        """Per product: machines with ``deviceValue`` High running a vulnerable version of it."""
        rows = self.db.query(
            "SELECT i.vendor, i.name, COUNT(DISTINCT i.machine_id) FROM tvm_version_cves v "
            "CROSS JOIN tvm_installs i CROSS JOIN def_machines m "
            f"WHERE i.tenant = ? AND {SAME_VERSION} AND m.tenant = i.tenant AND m.id = i.machine_id "
            "AND m.device_value = 'High' GROUP BY i.vendor, i.name",
            (tenant,),
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def config_assessment(
        self, tenant: str, machine_id: str | None = None
    ) -> dict[str, dict[str, tuple[bool, bool]]]:
        """machine id -> config id -> (applicable, compliant), for every assessed machine (or one)."""
        one = " AND m.id = ?" if machine_id else ""
        rows = self.db.query(
            "SELECT m.id, m.os_platform, m.onboarding_status, d.av_mode, d.av_is_signature_up_to_date "
            "FROM tvm_device_av d JOIN def_machines m ON m.tenant = d.tenant AND m.id = d.machine_id "
            f"WHERE d.tenant = ?{one} ORDER BY m.n",
            (tenant, machine_id) if machine_id else (tenant,),
        )
        return {r[0]: config_checks(r[0], r[1], r[3], r[4], r[2] == "Onboarded") for r in rows}

    def machine_vulnerability_page(
        self, tenant: str, query: ListQuery, page_size: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of ``/api/vulnerabilities/machinesVulnerabilities`` (one row per machine, version, CVE)."""
        where = f" AND ({query.where})" if query.where else ""
        joined = f"FROM tvm_installs i JOIN tvm_version_cves v ON {SAME_VERSION} WHERE i.tenant = ?{where}"
        if query.count:  # $count=true and the /$count segment
            row = self.db.query_one(f"SELECT COUNT(*) AS c {joined}", (tenant, *query.params))
            query.total = int(row["c"]) if row else 0
        if query.top == 0:
            return [], False
        limit = query.top if query.top is not None else page_size + 1
        order = order_sql(query, "i.machine_id, i.vendor, i.name, v.cve_id")
        rows = self.db.query(
            f"SELECT i.machine_id, v.cve_id, v.kb, i.vendor, i.name, i.version, v.severity {joined} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            (tenant, *query.params, limit, query.skip),
        )
        items = [
            {
                "id": f"{m}-_-{cve}-_-{vendor}-_-{name}-_-{version}-_-{kb or ''}",
                "cveId": cve,
                "machineId": m,
                "fixingKbId": kb,
                "productName": name,
                "productVendor": vendor,
                "productVersion": version,
                "severity": severity,
            }
            for m, cve, kb, vendor, name, version, severity in rows
        ]
        more = query.top is None and len(items) > page_size
        return items[:page_size], more

    # -- AV health, remediation ----------------------------------------------------------------------
    def av_page(self, tenant: str, query: ListQuery, page_size: int) -> tuple[list[dict[str, Any]], bool]:
        """A page of ``/api/deviceavinfo``."""
        rows, more = run_list(self.db, "tvm_device_av", tenant, query, page_size=page_size)
        return decode(rows), more

    def os_versions(self, tenant: str) -> dict[str, str]:
        """Each assessed machine's operating system version (its OS product's installed version)."""
        rows = self.db.query("SELECT machine_id, os_version FROM tvm_device_av WHERE tenant = ?", (tenant,))
        return {r[0]: r[1] for r in rows}

    def remediation_page(self, tenant: str, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """A page of remediation activities."""
        rows, more = run_list(self.db, "tvm_remediation", tenant, query)
        return decode(rows), more

    def remediation(self, tenant: str, task_id: str) -> dict[str, Any] | None:
        """A remediation activity by id."""
        row = self.db.query_one(
            "SELECT data FROM tvm_remediation WHERE tenant = ? AND id = ?", (tenant, task_id)
        )
        return loads(row[0]) if row else None
