"""SQLite tables for Defender data: each entity as JSON plus indexed columns for ``$filter``.

Alerts keep the fields that have a column only there; ``data`` holds the other fields' values
(see :mod:`mdekit.emulator.defender.alerts`), which keeps a seeded alert's row near 600 bytes.
A large seed's alert rows leave ``title`` NULL: no filter reads it, and the rendering in ``data``
holds it (``TITLE_SQL`` in :mod:`~mdekit.emulator.defender.alerts` reads either).

Every row carries its tenant; every query names one, so no tenant sees another's data (the alert
tables hold a seeded tenant's short key instead of its id: :mod:`~.tenantkeys`). Text
columns compare case-insensitively (``COLLATE NOCASE``) as the service's filters do.
Timestamps are stored in the service's fixed 7-digit format, so text order is time order.
"""

from __future__ import annotations

__all__ = ["ALERT_INDEXES", "ALERT_INDEX_NAMES", "SCHEMA", "TABLES"]

TABLES = (
    "def_machines",
    "def_alerts",
    "def_alert_links",
    "def_alert_evidence",
    "def_alert_dicts",
    "def_actions",
    "def_indicators",
    "def_investigations",
    "def_files",
    "def_users",
    "def_machine_users",
    "def_incidents",
    "def_live_commands",
    "def_library",
    "def_blobs",
    "def_machine_files",
    "def_investigation_runs",
)

#: The alerts' (and their incidents') filter indexes; a large seed drops them and builds them after
#: its inserts. Paging (issue 19): ``def_alerts_severity`` serves ``$filter``/``$orderby`` on
#: severity; ``def_alerts_created_page`` (creation time, then rowid, with status and severity)
#: serves ``$orderby=alertCreationTime`` either way with a status or severity filter from the index
#: alone: a deep ``$skip`` there walks index entries, never rows. It serves all that
#: ``def_alerts_created`` (tenant, creation time) did, which is gone (:data:`DROPPED_INDEXES`):
#: ~40 bytes an alert and ~0.9 s of a 1,000,000-alert seed.
ALERT_INDEXES = """
CREATE INDEX IF NOT EXISTS def_alerts_machine ON def_alerts(tenant, machine_id);
CREATE INDEX IF NOT EXISTS def_alerts_status ON def_alerts(tenant, status);
CREATE INDEX IF NOT EXISTS def_alerts_updated ON def_alerts(tenant, last_update_time);
CREATE INDEX IF NOT EXISTS def_alerts_incident ON def_alerts(tenant, incident_id);
CREATE INDEX IF NOT EXISTS def_alerts_tenant ON def_alerts(tenant);
CREATE INDEX IF NOT EXISTS def_incidents_created ON def_incidents(tenant, created_time);
CREATE INDEX IF NOT EXISTS def_incidents_updated ON def_incidents(tenant, last_update_time);
CREATE INDEX IF NOT EXISTS def_alerts_severity ON def_alerts(tenant, severity);
CREATE INDEX IF NOT EXISTS def_alerts_created_page
  ON def_alerts(tenant, alert_creation_time, n, status, severity);
"""
ALERT_INDEX_NAMES = tuple(line.split()[5] for line in ALERT_INDEXES.split(";") if line.strip())
#: Indexes earlier emulators made that are redundant now: dropped when a data file is opened.
DROPPED_INDEXES = """
DROP INDEX IF EXISTS def_alerts_created;
"""

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS def_machines (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, id TEXT NOT NULL COLLATE NOCASE,
  computer_dns_name TEXT COLLATE NOCASE, version TEXT COLLATE NOCASE, device_value TEXT,
  aad_device_id TEXT COLLATE NOCASE, machine_tags TEXT NOT NULL DEFAULT '[]', last_seen TEXT,
  exposure_level TEXT, onboarding_status TEXT, last_ip_address TEXT, health_status TEXT,
  os_platform TEXT COLLATE NOCASE, risk_score TEXT, rbac_group_id INTEGER,
  isolation TEXT, restricted INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL,
  UNIQUE (tenant, id)
);
CREATE INDEX IF NOT EXISTS def_machines_dns ON def_machines(tenant, computer_dns_name);
CREATE INDEX IF NOT EXISTS def_machines_ip ON def_machines(tenant, last_ip_address);
CREATE INDEX IF NOT EXISTS def_machines_seen ON def_machines(tenant, last_seen);
CREATE INDEX IF NOT EXISTS def_machines_health ON def_machines(tenant, health_status);
CREATE INDEX IF NOT EXISTS def_machines_tenant ON def_machines(tenant);

CREATE TABLE IF NOT EXISTS def_alerts (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, id TEXT NOT NULL COLLATE NOCASE,
  incident_id INTEGER, investigation_id INTEGER, assigned_to TEXT COLLATE NOCASE,
  detection_source TEXT, status TEXT, severity TEXT, category TEXT,
  alert_creation_time TEXT, last_update_time TEXT, last_event_time TEXT,
  machine_id TEXT COLLATE NOCASE, title TEXT,
  data TEXT NOT NULL,
  UNIQUE (tenant, id)
);
-- Evidence apart from the alert (same rowid ``n``): list pages without $expand stay small.
CREATE TABLE IF NOT EXISTS def_alert_evidence (
  n INTEGER PRIMARY KEY, tenant TEXT NOT NULL, evidence TEXT NOT NULL
);
-- The zstd dictionaries of compressed alert renderings, by key (see defender/renderings.py).
CREATE TABLE IF NOT EXISTS def_alert_dicts (
  tenant TEXT NOT NULL, key BLOB NOT NULL, dict BLOB NOT NULL,
  PRIMARY KEY (tenant, key)
);
-- Incidents (Defender XDR / Graph): the incident's own fields; its alerts are the def_alerts rows
-- with its incident_id. Status, classification and determination hold the XDR (PascalCase) names.
CREATE TABLE IF NOT EXISTS def_incidents (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, id INTEGER NOT NULL,
  name TEXT NOT NULL, status TEXT NOT NULL, severity TEXT NOT NULL,
  assigned_to TEXT COLLATE NOCASE, classification TEXT, determination TEXT,
  created_time TEXT NOT NULL, last_update_time TEXT NOT NULL, redirect_id INTEGER,
  tags TEXT NOT NULL DEFAULT '[]', comments TEXT NOT NULL DEFAULT '[]',
  UNIQUE (tenant, id)
);
"""
    + ALERT_INDEXES
    + DROPPED_INDEXES
    + """
-- Which files, IPs, domains and users alerts' evidence names (for the lookup endpoints): one row
-- per entity with the JSON array of its alerts' rowids ``n`` (a posting list: ~3,500 rows for a
-- 100,000-alert seed instead of ~300,000 one-link rows).
CREATE TABLE IF NOT EXISTS def_alert_links (
  tenant TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL COLLATE NOCASE, ns TEXT NOT NULL,
  PRIMARY KEY (tenant, kind, value)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS def_actions (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, id TEXT NOT NULL COLLATE NOCASE,
  type TEXT, status TEXT, machine_id TEXT COLLATE NOCASE, requestor TEXT COLLATE NOCASE,
  creation_time TEXT, app_id TEXT,
  -- The timeline fixed at creation (seconds on the virtual clock); status is derived from it.
  created_at REAL NOT NULL, pending_seconds REAL NOT NULL, run_seconds REAL NOT NULL,
  outcome TEXT NOT NULL, settled INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL,
  UNIQUE (tenant, id)
);
CREATE INDEX IF NOT EXISTS def_actions_open ON def_actions(tenant, settled);
CREATE INDEX IF NOT EXISTS def_actions_machine ON def_actions(tenant, machine_id);
-- A new action's "one of its kind already open on the machine?" check: the machine's open actions
-- only, however many finished ones it has (a POST otherwise walked all of them; issue 19).
CREATE INDEX IF NOT EXISTS def_actions_busy ON def_actions(tenant, machine_id) WHERE settled = 0;
-- Paging (issue 19): the default order, and $orderby creationDateTimeUtc, by index walks.
CREATE INDEX IF NOT EXISTS def_actions_tenant ON def_actions(tenant);
CREATE INDEX IF NOT EXISTS def_actions_created ON def_actions(tenant, creation_time);

CREATE TABLE IF NOT EXISTS def_indicators (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  indicator_value TEXT COLLATE NOCASE, indicator_type TEXT, action TEXT, application TEXT COLLATE NOCASE,
  created_by TEXT COLLATE NOCASE, created_by_display_name TEXT COLLATE NOCASE, expiration_time TEXT,
  generate_alert INTEGER, title TEXT COLLATE NOCASE, rbac_group_names TEXT NOT NULL DEFAULT '[]',
  rbac_group_ids TEXT NOT NULL DEFAULT '[]', creation_time TEXT, severity TEXT,
  data TEXT NOT NULL,
  UNIQUE (tenant, indicator_type, indicator_value)
);
-- Paging (issue 19): the default order, $orderby creationTimeDateTimeUtc, $filter severity.
CREATE INDEX IF NOT EXISTS def_indicators_tenant ON def_indicators(tenant);
CREATE INDEX IF NOT EXISTS def_indicators_created ON def_indicators(tenant, creation_time);
CREATE INDEX IF NOT EXISTS def_indicators_severity ON def_indicators(tenant, severity);

CREATE TABLE IF NOT EXISTS def_investigations (
  n INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, id TEXT NOT NULL,
  start_time TEXT, state TEXT, machine_id TEXT COLLATE NOCASE, triggering_alert_id TEXT COLLATE NOCASE,
  data TEXT NOT NULL,
  UNIQUE (tenant, id)
);
CREATE INDEX IF NOT EXISTS def_investigations_alert ON def_investigations(tenant, triggering_alert_id);

CREATE TABLE IF NOT EXISTS def_files (
  tenant TEXT NOT NULL, sha1 TEXT NOT NULL COLLATE NOCASE, sha256 TEXT COLLATE NOCASE,
  stats TEXT NOT NULL DEFAULT '{}', data TEXT NOT NULL,
  PRIMARY KEY (tenant, sha1)
);
CREATE INDEX IF NOT EXISTS def_files_sha256 ON def_files(tenant, sha256);

CREATE TABLE IF NOT EXISTS def_users (
  tenant TEXT NOT NULL, id TEXT NOT NULL COLLATE NOCASE, account_name TEXT COLLATE NOCASE,
  data TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS def_users_name ON def_users(tenant, account_name);

CREATE TABLE IF NOT EXISTS def_machine_users (
  tenant TEXT NOT NULL, machine_id TEXT NOT NULL COLLATE NOCASE, user_id TEXT NOT NULL COLLATE NOCASE
);
CREATE INDEX IF NOT EXISTS def_machine_users_m ON def_machine_users(tenant, machine_id);
CREATE INDEX IF NOT EXISTS def_machine_users_u ON def_machine_users(tenant, user_id);

-- Live response (issue 15): each command's plan, fixed when its action is created (offsets in
-- seconds after the action starts running; NULL: never runs), and its result.
CREATE TABLE IF NOT EXISTS def_live_commands (
  tenant TEXT NOT NULL, action_id TEXT NOT NULL COLLATE NOCASE, idx INTEGER NOT NULL,
  start_offset REAL, end_offset REAL, status TEXT NOT NULL, errors TEXT NOT NULL DEFAULT '[]',
  result TEXT, applied INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, action_id, idx)
);
-- The live response library: one row per file (names compare case-insensitively); its bytes
-- are a blob.
CREATE TABLE IF NOT EXISTS def_library (
  tenant TEXT NOT NULL, file_name TEXT NOT NULL COLLATE NOCASE, sha256 TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (tenant, file_name)
);
-- File contents by SHA-256 (library files, files put on machines): stored once however many
-- machines a library file is put on.
CREATE TABLE IF NOT EXISTS def_blobs (
  tenant TEXT NOT NULL, sha256 TEXT NOT NULL, content BLOB NOT NULL,
  PRIMARY KEY (tenant, sha256)
);
-- Changes to a machine's virtual file system (its system and evidence files are derived, not
-- stored): files put there, and files removed (quarantined) which hides a derived one too.
CREATE TABLE IF NOT EXISTS def_machine_files (
  tenant TEXT NOT NULL, machine_id TEXT NOT NULL COLLATE NOCASE, path_key TEXT NOT NULL,
  path TEXT NOT NULL, size INTEGER NOT NULL, sha1 TEXT COLLATE NOCASE, origin TEXT NOT NULL,
  blob TEXT, removed INTEGER NOT NULL DEFAULT 0, changed_at TEXT,
  PRIMARY KEY (tenant, machine_id, path_key)
);
-- Automated investigations started through the API: when they end, and in which state.
CREATE TABLE IF NOT EXISTS def_investigation_runs (
  tenant TEXT NOT NULL, id TEXT NOT NULL, ends_at REAL NOT NULL, final_state TEXT NOT NULL,
  settled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, id)
);
"""
)
