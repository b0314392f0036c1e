"""SQLite tables for threat & vulnerability management.

What is stored and what is derived (issue 14, measured in ``benchmarks/bench_tvm.py``):

* ``tvm_installs``: each machine's installed software, one row per (machine, product) - the
  only per-machine TVM fact. 10,000 machines hold ~80,000 rows.
* ``tvm_version_cves``: which shipped CVEs each product *version* has (plus severity and the
  fixing KB). A pure function of :mod:`.cves`, shared by all tenants, one row per (version, CVE):
  a few hundred rows, filled for every version that gets installed (``tvm_versions`` lists the
  versions already assessed, with or without CVEs).
* A machine's vulnerabilities are never stored: they are ``tvm_installs JOIN tvm_version_cves``
  at query time, so ``/machines/{id}/vulnerabilities``, ``/vulnerabilities/{cve}/machineReferences``,
  the exports and the hunting rows cannot disagree, and installing or removing software is one
  row.
* ``tvm_device_av``: each machine's antivirus health (``/api/deviceavinfo``, filterable columns).
* ``tvm_remediation``: remediation activities; ``tvm_changes``: New/Fixed events for the delta
  export; ``tvm_exports``: the machine ranges of each generated file export.
"""

from __future__ import annotations

__all__ = ["GLOBAL_TABLES", "TVM_SCHEMA", "TVM_TABLES"]

#: Tenant-scoped tables (deleted with the tenant).
TVM_TABLES = ("tvm_installs", "tvm_device_av", "tvm_remediation", "tvm_changes", "tvm_exports")
#: Shared, derived from the shipped CVE records only.
GLOBAL_TABLES = ("tvm_versions", "tvm_version_cves")

TVM_SCHEMA = """
-- Clustered by machine (WITHOUT ROWID): a machine's installs are one B-tree range, and the
-- table needs no second copy of its key (measured: ~25 % less to write at seed time).
CREATE TABLE IF NOT EXISTS tvm_installs (
  tenant TEXT NOT NULL, machine_id TEXT NOT NULL COLLATE NOCASE,
  vendor TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  PRIMARY KEY (tenant, machine_id, vendor, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tvm_installs_product ON tvm_installs(tenant, vendor, name, version);

CREATE TABLE IF NOT EXISTS tvm_versions (
  vendor TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  PRIMARY KEY (vendor, name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tvm_version_cves (
  vendor TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, cve_id TEXT NOT NULL,
  severity TEXT NOT NULL, kb TEXT,
  PRIMARY KEY (vendor, name, version, cve_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tvm_version_cves_cve ON tvm_version_cves(cve_id);

CREATE TABLE IF NOT EXISTS tvm_device_av (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, machine_id TEXT NOT NULL COLLATE NOCASE,
  computer_dns_name TEXT COLLATE NOCASE, os_kind TEXT COLLATE NOCASE, os_platform TEXT COLLATE NOCASE,
  os_version TEXT COLLATE NOCASE, av_mode TEXT, av_signature_version TEXT COLLATE NOCASE,
  av_engine_version TEXT COLLATE NOCASE, av_platform_version TEXT COLLATE NOCASE,
  quick_scan_result TEXT COLLATE NOCASE, quick_scan_error TEXT COLLATE NOCASE,
  full_scan_result TEXT COLLATE NOCASE, full_scan_error TEXT COLLATE NOCASE,
  av_is_signature_up_to_date TEXT COLLATE NOCASE, av_is_engine_up_to_date TEXT COLLATE NOCASE,
  av_is_platform_up_to_date TEXT COLLATE NOCASE, rbac_group_id INTEGER,
  data TEXT NOT NULL,
  UNIQUE (tenant, machine_id)
);

CREATE TABLE IF NOT EXISTS tvm_remediation (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, id TEXT NOT NULL COLLATE NOCASE,
  created_on TEXT, status TEXT, data TEXT NOT NULL,
  UNIQUE (tenant, id)
);

CREATE TABLE IF NOT EXISTS tvm_changes (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, event_time TEXT NOT NULL, status TEXT NOT NULL,
  machine_id TEXT NOT NULL, vendor TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  cve_id TEXT, kb TEXT, first_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tvm_changes_time ON tvm_changes(tenant, event_time);

CREATE TABLE IF NOT EXISTS tvm_exports (
  tenant TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, created TEXT NOT NULL,
  parts TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
);
"""
