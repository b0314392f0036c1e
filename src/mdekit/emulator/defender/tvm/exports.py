"""Assessment exports: the per-device rows, their paging tokens, and the signed export files.

One row source per export serves the JSON API (``pageSize`` pages, ``$skiptoken``), the file
export (gzip, one JSON object per line) and the hunting accessors, so they always agree:

* software vulnerabilities (``AssetVulnerability``): one row per (machine, product version, CVE);
  a product version without CVEs gives one row with ``cveId`` null;
* software inventory (``AssetSoftware``): one row per (machine, product version);
* secure configuration (``AssetConfiguration``): one row per (machine, configuration);
* changes (``DeltaAssetVulnerability``): the New/Fixed events recorded by installs and removals.

Rows are read in machine order (then vendor, product, CVE), straight from SQL with LIMIT/OFFSET.
File exports split the tenant's machines into ranges of :data:`PART_MACHINES`; each file's URL
carries a start and expiry on the virtual clock and an HMAC signature (like an Azure SAS), so the
download needs no bearer token and stops working when it expires.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mdekit.emulator.clock import parse_time
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.sas import SasSigner, blob_not_found, sas_time
from mdekit.emulator.defender.tvm.assess import config_checks, cves_for
from mdekit.emulator.defender.tvm.configs import CONFIGS
from mdekit.emulator.defender.tvm.cves import CVE_BY_ID, WINDOWS_UPDATES
from mdekit.emulator.defender.tvm.entities import KB_URL
from mdekit.emulator.defender.tvm.products import product
from mdekit.emulator.defender.tvm.store import SAME_VERSION, TvmStore

__all__ = [
    "EXPORTS",
    "PART_MACHINES",
    "ExportKind",
    "FileExports",
    "decode_token",
    "encode_token",
    "export_rows",
]

#: Machines per export file.
PART_MACHINES = 5_000
_UPDATES = {u.kb: u for u in WINDOWS_UPDATES}
_EXPLOITABILITY = {"active": "ExploitIsVerified", "poc": "ExploitIsPublic", "none": "NoExploit"}


@dataclass(frozen=True)
class ExportKind:
    """One export: its file folder name (as in the real blob paths) and row source."""

    name: str
    folder: str


EXPORTS = {
    "vulnerabilities": ExportKind("vulnerabilities", "VaExport"),
    "inventory": ExportKind("inventory", "SoftwareInventory"),
    "configurations": ExportKind("configurations", "ScaExport"),
}


def _ts(stamp: str | None, digits: int = 0) -> str | None:
    """``2020-12-30T14:17:26.1234567Z`` -> ``2020-12-30 14:17:26`` (+ *digits* fraction digits)."""
    if not stamp:
        return None
    base = stamp[:10] + " " + stamp[11:19]
    frac = stamp[20:27] if len(stamp) > 20 else "0000000"
    return base + ("." + frac[:digits] if digits else "")


_MACHINE_COLUMNS = (
    "m.n, m.id, m.computer_dns_name AS name, m.os_platform AS platform, m.onboarding_status AS onboarding, "
    "json_extract(m.data, '$.rbacGroupName') AS grp, json_extract(m.data, '$.osProcessor') AS arch, "
    "m.last_seen, d.os_version, d.av_mode, d.av_is_signature_up_to_date AS sig"
)
_MACHINES = "def_machines m LEFT JOIN tvm_device_av d ON d.tenant = m.tenant AND d.machine_id = m.id"


def _software_rows(
    store: TvmStore, tenant: str, lo: int, hi: int, offset: int, limit: int, with_cves: bool
) -> Iterator[dict[str, Any]]:
    cve_join = f"LEFT JOIN tvm_version_cves v ON {SAME_VERSION}" if with_cves else ""
    cve_cols = "v.cve_id, v.kb" if with_cves else "NULL AS cve_id, NULL AS kb"
    # CROSS JOIN keeps machines as the outer loop: rows come out in machine order, then in the
    # install index's (vendor, name) order and the version table's CVE order - no sort at all.
    rows = store.db.query(
        f"SELECT {_MACHINE_COLUMNS}, i.vendor, i.name AS product, i.version, i.first_seen, {cve_cols} "
        f"FROM {_MACHINES} CROSS JOIN tvm_installs i {cve_join} "
        "WHERE +m.tenant = ? AND m.n BETWEEN ? AND ? AND i.tenant = m.tenant AND i.machine_id = m.id "
        f"ORDER BY m.n, i.vendor, i.name{', v.cve_id' if with_cves else ''} LIMIT ? OFFSET ?",
        (tenant, lo, hi, limit, offset),
    )
    now = store.clock.time()
    for r in rows:
        yield _vuln_row(r, now) if with_cves else _inventory_row(r, now)


# Row positions: the machine columns (_MACHINE_COLUMNS), then the software ones.
_N, _ID, _NAME, _PLATFORM, _ONBOARDING, _GROUP, _ARCH, _LAST_SEEN, _OS_VERSION, _AV_MODE, _SIG = range(11)
_VENDOR, _PRODUCT, _VERSION, _FIRST_SEEN, _CVE, _KB = range(11, 17)


@lru_cache(maxsize=8192)
def _vuln_facts(vendor: str, name: str, version: str, cve_id: str | None, kb: str | None) -> tuple[Any, ...]:
    """The per-(version, CVE) values of a vulnerability row, computed once."""
    cve = CVE_BY_ID.get(cve_id) if cve_id else None
    update = _UPDATES.get(kb) if kb else None
    found = product(vendor, name)
    newer = found is not None and version != found.latest
    return (
        cve.severity if cve else None,
        update.name if update else None,
        update.kb if update else None,
        KB_URL.format(kb=update.kb) if update else None,
        found.disk_path if found and found.disk_path else None,
        found.registry_path if found and found.registry_path else None,
        _EXPLOITABILITY[cve.exploit] if cve else "NoExploit",
        bool(cve) or newer,
        cve.cvss if cve else None,
    )


def _vuln_row(r: Any, now: float) -> dict[str, Any]:
    name, version, cve_id = r[_PRODUCT], r[_VERSION], r[_CVE]
    severity, update, update_id, url, disk, registry, exploit, available, cvss = _vuln_facts(
        r[_VENDOR], name, version, cve_id, r[_KB]
    )
    return {
        "id": f"{r[_ID]}_{name}_{version}_{cve_id or ''}_",
        "deviceId": r[_ID],
        "rbacGroupName": r[_GROUP] or "Unassigned",
        "deviceName": r[_NAME],
        "osPlatform": r[_PLATFORM],
        "osVersion": r[_OS_VERSION],
        "osArchitecture": r[_ARCH] or "x64",
        "softwareVendor": r[_VENDOR],
        "softwareName": name,
        "softwareVersion": version,
        "cveId": cve_id,
        "vulnerabilitySeverityLevel": severity,
        "recommendedSecurityUpdate": update,
        "recommendedSecurityUpdateId": update_id,
        "recommendedSecurityUpdateUrl": url,
        "diskPaths": [disk] if disk else [],
        "registryPaths": [registry] if registry else [],
        "lastSeenTimestamp": _ts(r[_LAST_SEEN]),
        "firstSeenTimestamp": _ts(r[_FIRST_SEEN]),
        "exploitabilityLevel": exploit,
        "recommendationReference": f"va-_-{r[_VENDOR]}-_-{name}",
        "securityUpdateAvailable": available,
        "cvssScore": cvss,
    }


def _inventory_row(r: Any, now: float) -> dict[str, Any]:
    vendor, name, version = r[_VENDOR], r[_PRODUCT], r[_VERSION]
    found = product(vendor, name)
    _, _, _, _, disk, registry, _, _, _ = _vuln_facts(vendor, name, version, None, None)
    eos = found.end_of_support if found else None
    status = "None"
    if eos:
        status = "EOS Software" if parse_time(eos).timestamp() <= now else "Upcoming EOS Software"
    return {
        "deviceId": r[_ID],
        "rbacGroupName": r[_GROUP] or "Unassigned",
        "deviceName": r[_NAME],
        "osPlatform": r[_PLATFORM],
        "softwareVendor": vendor,
        "softwareName": name,
        "softwareVersion": version,
        "numberOfWeaknesses": len(cves_for(vendor, name, version)),
        "diskPaths": [disk] if disk else [],
        "registryPaths": [registry] if registry else [],
        "softwareFirstSeenTimestamp": _ts(r[_FIRST_SEEN]),
        "endOfSupportStatus": status,
        "endOfSupportDate": f"{eos}T00:00:00+00:00" if eos else None,
    }


def _config_rows(
    store: TvmStore, tenant: str, lo: int, hi: int, offset: int, limit: int
) -> Iterator[dict[str, Any]]:
    per = len(CONFIGS)
    first, skip = divmod(offset, per)
    count = (skip + limit + per - 1) // per
    rows = store.db.query(
        f"SELECT {_MACHINE_COLUMNS} FROM {_MACHINES} WHERE +m.tenant = ? AND m.n BETWEEN ? AND ? "
        "AND d.machine_id IS NOT NULL ORDER BY m.n LIMIT ? OFFSET ?",
        (tenant, lo, hi, count, first),
    )
    emitted = 0
    for r in rows:
        checks = config_checks(r[_ID], r[_PLATFORM], r[_AV_MODE], r[_SIG], r[_ONBOARDING] == "Onboarded")
        timestamp = _ts(r[_LAST_SEEN], 3)
        for config in CONFIGS:
            if skip:
                skip -= 1
                continue
            if emitted >= limit:
                return
            applicable, compliant = checks[config.id]
            emitted += 1
            yield {
                "deviceId": r[_ID],
                "rbacGroupName": r[_GROUP] or "Unassigned",
                "deviceName": r[_NAME],
                "osPlatform": r[_PLATFORM],
                "osVersion": r[_OS_VERSION],
                "timestamp": timestamp,
                "configurationId": config.id,
                "configurationCategory": config.category,
                "configurationSubcategory": config.subcategory,
                "configurationImpact": config.impact,
                "isCompliant": compliant,
                "isApplicable": applicable,
                "isExpectedUserImpact": config.user_impact,
                "configurationName": config.name,
                "recommendationReference": config.recommendation_id,
            }


def export_rows(
    store: TvmStore,
    kind: str,
    tenant: str,
    *,
    offset: int = 0,
    limit: int = 2**62,
    lo: int = 0,
    hi: int = 2**62,
) -> Iterator[dict[str, Any]]:
    """Rows of export *kind* (``vulnerabilities``, ``inventory``, ``configurations``) for machines
    with ``lo <= n <= hi``, from row *offset*, at most *limit*."""
    if kind == "configurations":
        return _config_rows(store, tenant, lo, hi, offset, limit)
    return _software_rows(store, tenant, lo, hi, offset, limit, with_cves=kind == "vulnerabilities")


def change_rows(
    store: TvmStore, tenant: str, since: str, *, offset: int = 0, limit: int = 2**62
) -> Iterator[dict[str, Any]]:
    """Delta rows (``DeltaAssetVulnerability``): events at or after *since* (7-digit UTC text)."""
    rows = store.db.query(
        f"SELECT {_MACHINE_COLUMNS}, c.vendor, c.name, c.version, c.first_seen, c.cve_id, c.kb, c.status, "
        "c.event_time FROM tvm_changes c JOIN def_machines m ON m.tenant = c.tenant AND m.id = c.machine_id "
        "LEFT JOIN tvm_device_av d ON d.tenant = m.tenant AND d.machine_id = m.id "
        "WHERE c.tenant = ? AND c.event_time >= ? ORDER BY c.n LIMIT ? OFFSET ?",
        (tenant, since, limit, offset),
    )
    now = store.clock.time()
    for r in rows:
        row = _vuln_row(r, now)
        row.pop("cvssScore")
        row["status"] = r[17]
        row["eventTimestamp"] = _ts(r[18], 7)
        yield row


# -- paging tokens ------------------------------------------------------------------------------------


def encode_token(time_path: str, line: int) -> str:
    """The real service's skiptoken form: base64 of ``{"ExportDefinition":{"TimePath":...},...}``."""
    body = {"ExportDefinition": {"TimePath": time_path}, "ExportFileIndex": 0, "LineStoppedAt": line}
    return base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    """The row a skiptoken stops at; ``ValueError`` if it is not one of ours."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        line = json.loads(raw)["LineStoppedAt"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError("invalid skip token") from exc
    if isinstance(line, bool) or not isinstance(line, int) or line < 0:
        raise ValueError("invalid skip token")
    return line


# -- file exports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    """What a download URL asks for, once its signature and times are checked."""

    tenant: str
    export_id: str
    part: int


class FileExports:
    """Generated file exports of every tenant, their signed URLs and their content."""

    def __init__(self, store: TvmStore) -> None:
        self.store = store
        self.sas = SasSigner(store.db, store.clock, "tvm_export_key")

    def generate(self, tenant: str, kind: str, host: str, valid_hours: float) -> tuple[list[str], str]:
        """Export *kind* for *tenant*: the file URLs and the generation time (``generatedTime``)."""
        now = self.store.clock.time()
        generated = int(now) // 60 * 60
        time_path = time.strftime("%Y-%m-%d/%H%M", time.gmtime(generated))
        export_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mdekit-tvm:{tenant}:{kind}:{time_path}"))
        ns = [
            r[0]
            for r in self.store.db.query(
                "SELECT m.n FROM def_machines m WHERE m.tenant = ? AND EXISTS (SELECT 1 FROM tvm_device_av d "
                "WHERE d.tenant = m.tenant AND d.machine_id = m.id) ORDER BY m.n",
                (tenant,),
            )
        ]
        parts = [[ns[i], ns[min(i + PART_MACHINES, len(ns)) - 1]] for i in range(0, len(ns), PART_MACHINES)]
        with self.store.db.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO tvm_exports (tenant, id, kind, created, parts) "
                "VALUES (?, ?, ?, ?, ?)",
                (tenant, export_id, kind, sas_time(generated), dumps(parts)),
            )
        folder = EXPORTS[kind].folder
        urls = []
        for i in range(len(parts)):
            path = (
                f"/tvm-export/{time_path}/{folder}/json/OrgId={tenant}/part-{i:05d}-{export_id}.c000.json.gz"
            )
            urls.append(f"https://{host}{path}?{self.sas.query(path, valid_hours * 3600, start=now)}")
        return urls, sas_time(generated)

    def check(self, path: str, params: dict[str, str]) -> Download:
        """Validate a download URL (signature, then time window on the virtual clock)."""
        self.sas.check(path, params)
        parts = path.split("/")
        name = parts[-1]
        tenant = parts[-2].removeprefix("OrgId=")
        try:
            index = int(name[len("part-") : len("part-") + 5])
            export_id = name[len("part-00000-") : -len(".c000.json.gz")]
        except ValueError:
            raise blob_not_found() from None
        return Download(tenant, export_id, index)

    def content(self, download: Download) -> bytes:
        """The gzip file (one JSON object per line) of a checked download."""
        row = self.store.db.query_one(
            "SELECT kind, parts FROM tvm_exports WHERE tenant = ? AND id = ?",
            (download.tenant, download.export_id),
        )
        parts = loads(row["parts"]) if row else []
        if row is None or not 0 <= download.part < len(parts):
            raise blob_not_found()
        lo, hi = parts[download.part]
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as gz:
            batch: list[bytes] = []
            for item in export_rows(self.store, row["kind"], download.tenant, lo=lo, hi=hi):
                batch.append(dumps(item).encode())
                if len(batch) >= 2000:
                    gz.write(b"\n".join(batch) + b"\n")
                    batch = []
            if batch:
                gz.write(b"\n".join(batch) + b"\n")
        return buffer.getvalue()
