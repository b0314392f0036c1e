# ruff: noqa: E501 - generated SQL reads best one clause a line
"""A tenant's "world" for hunting data: its machines, users and alerts, loaded into DuckDB once.

Everything else is derived from these seed tables by SQL (:mod:`.build`), vectorized inside the
engine: a 50,000-alert tenant's world loads in about a second, and each hunting table is then one
``INSERT ... SELECT``. The same tenant, Defender data and anchor hour give the same rows.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import tempfile
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.hunting.data.catalog import BINARIES, CRADLE, STORIES, encoded_command
from mdekit.emulator.hunting.sql import quote_ident, quote_str

__all__ = ["DAYS", "World", "fleet_from_seed", "load_rows"]

DAYS = 31  # the 30-day window spans 31 calendar days
_DAY_US = 86_400_000_000


def load_rows(
    conn: Any, table: str, columns: list[tuple[str, str]], rows: Iterable[tuple[Any, ...] | bytes]
) -> None:
    """Create *table* from Python rows (of str, int, bool or None; or a row already as a JSON array).

    Each row goes into a temporary file as one JSON array (orjson), which DuckDB reads as a list of
    strings and casts to *columns*: about three times faster than the csv module, and far faster
    than inserting rows one by one (DuckDB's Python bulk paths need numpy or pyarrow).
    """
    import orjson

    fd, path = tempfile.mkstemp(prefix="mdekit-hunting-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as f:
            dumps = orjson.dumps
            f.write(b"\n".join(row if isinstance(row, bytes) else dumps(row) for row in rows))
        items = ", ".join(
            f"CAST(j[{k}] AS {kind}) AS {quote_ident(name)}" for k, (name, kind) in enumerate(columns, 1)
        )
        conn.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table)} AS SELECT {items} FROM read_json({quote_str(path)}, "
            "format = 'newline_delimited', records = false, columns = {'j': 'VARCHAR[]'})"
        )
    finally:
        os.unlink(path)


def fleet_from_seed(tenant: str, count: int = 6) -> list[dict[str, Any]]:
    """Machines in the API's shape, made from *tenant* alone (when the Defender store has none)."""
    rng = random.Random(f"hunting-fleet:{tenant}")
    out: list[dict[str, Any]] = []
    kinds = ["ws", "ws", "ws", "srv", "lap", "ws"]
    users = ["alice", "bob", "carol", "dan", "erin"]
    for i in range(count):
        name = f"{kinds[i % 6]}-{rng.choice(users)}{i}"
        out.append(
            {
                "id": f"{rng.getrandbits(160):040x}",
                "computerDnsName": f"{name}.contoso.local",
                "osPlatform": "WindowsServer2022" if name.startswith("srv") else "Windows11",
                "version": "23H2",
                "osBuild": 22631,
                "lastIpAddress": f"10.1.0.{10 + i}",
                "lastExternalIpAddress": f"20.51.0.{10 + i}",
                "aadDeviceId": None,
                "exposureLevel": rng.choice(["Low", "Medium", "High"]),
                "rbacGroupName": "Servers" if name.startswith("srv") else "Workstations",
                "healthStatus": "Active",
                "onboardingStatus": "Onboarded",
                "machineTags": [],
                "deviceValue": "Normal",
                "agentVersion": "10.8760.22621.1000",
            }
        )
    return out


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


MACHINE_COLUMNS = [
    ("mi", "INTEGER"),
    ("id", "VARCHAR"),
    ("fqdn", "VARCHAR"),
    ("host", "VARCHAR"),
    ("platform", "VARCHAR"),
    ("family", "VARCHAR"),
    ("role", "VARCHAR"),
    ("os_version", "VARCHAR"),
    ("os_build", "BIGINT"),
    ("arch", "VARCHAR"),
    ("ip", "VARCHAR"),
    ("public_ip", "VARCHAR"),
    ("mac", "VARCHAR"),
    ("rbac", "VARCHAR"),
    ("aad_id", "VARCHAR"),
    ("exposure", "VARCHAR"),
    ("health", "VARCHAR"),
    ("onboarding", "VARCHAR"),
    ("tags", "VARCHAR"),
    ("agent", "VARCHAR"),
    ("value", "VARCHAR"),
    ("user", "VARCHAR"),
    ("domain", "VARCHAR"),
    ("sid", "VARCHAR"),
    ("upn", "VARCHAR"),
    ("oid", "VARCHAR"),
    ("aad_joined", "BOOLEAN"),
]
RAW_ALERT_COLUMNS = [
    ("alert_id", "VARCHAR"),
    ("machine_id", "VARCHAR"),
    ("created", "VARCHAR"),
    ("title", "VARCHAR"),
    ("category", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("det_source", "VARCHAR"),
    ("family", "VARCHAR"),
    ("techniques", "VARCHAR"),
    ("evidence_time", "VARCHAR"),
    ("sha1", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("file", "VARCHAR"),
    ("pid", "BIGINT"),
    ("ppid", "BIGINT"),
    ("ip", "VARCHAR"),
    ("url", "VARCHAR"),
    ("account", "VARCHAR"),
    ("acct_domain", "VARCHAR"),
    ("acct_sid", "VARCHAR"),
    ("evidence", "VARCHAR"),
]
#: Finish the alert rows in SQL: machine index, times in microseconds, the storyline, stable stand-ins
#: for missing evidence, and the PowerShell storyline's -EncodedCommand (base64 of UTF-16LE text).
_ALERTS_FROM_RAW = """CREATE OR REPLACE TABLE __alerts AS
SELECT row_number() OVER () - 1 AS ai, r.alert_id, m.mi, coalesce(epoch_us(TRY_CAST(r.created AS TIMESTAMPTZ)), {anchor}) AS ts,
       coalesce(r.title, '') AS title, coalesce(r.category, '') AS category, coalesce(r.severity, '') AS severity,
       coalesce(r.det_source, '') AS det_source, coalesce(r.techniques, '[]') AS techniques,
       coalesce(r.family, '') AS family, coalesce(r.file, 'payload.exe') AS file,
       coalesce(r.sha1, sha1({tenant} || r.alert_id)) AS sha1, coalesce(r.sha256, sha256({tenant} || r.alert_id)) AS sha256,
       coalesce(r.pid, 4 * (1000 + hash({tenant}, r.alert_id) % 15000)) AS pid, r.ppid, r.ip, coalesce(r.url, '') AS url,
       coalesce(nullif(split_part(regexp_replace(coalesce(r.url, ''), '^[a-z]+://', ''), '/', 1), ''),
                substr(md5(r.alert_id), 1, 10) || '.example.net') AS urlhost,
       coalesce(r.account, m."user") AS account, upper(coalesce(r.acct_domain, m.domain)) AS acct_domain,
       coalesce(r.acct_sid, m.sid, '') AS acct_sid,
       CASE m.family WHEN 'linux' THEN '__linux' WHEN 'macos' THEN '__macos' ELSE coalesce(t.title, '__lolbin') END
           AS story,
       CASE WHEN t.title IN ({encoded}) THEN {cradle_head} || to_base64(unhex(array_to_string(list_transform(
           string_split(replace({cradle_tail}, '{{ip}}', r.ip), ''), lambda ch: lpad(hex(ascii(ch)), 2, '0') || '00'), '')))
       END AS b64,
       coalesce(epoch_us(TRY_CAST(r.evidence_time AS TIMESTAMPTZ)), epoch_us(TRY_CAST(r.created AS TIMESTAMPTZ)), {anchor})
           AS evidence_ts
FROM (SELECT *, coalesce(ip_raw, (40 + hash(alert_id, 'a') % 180) || '.' || (hash(alert_id, 'b') % 256) || '.'
                || (hash(alert_id, 'c') % 256) || '.' || (1 + hash(alert_id, 'd') % 253)) AS ip
      FROM (SELECT * RENAME (ip AS ip_raw) FROM __alerts_raw)) AS r
JOIN __machines AS m ON m.id = r.machine_id
LEFT JOIN (VALUES {titles}) AS t(title) ON t.title = r.title"""
BIN_COLUMNS = [
    ("key", "VARCHAR"),
    ("name", "VARCHAR"),
    ("folder", "VARCHAR"),
    ("sha1", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("md5", "VARCHAR"),
    ("size", "BIGINT"),
    ("company", "VARCHAR"),
    ("product", "VARCHAR"),
    ("version", "VARCHAR"),
    ("description", "VARCHAR"),
    ("signer", "VARCHAR"),
    ("issuer", "VARCHAR"),
]


class World:
    """The seed tables of one tenant's hunting data (``__machines``, ``__alerts``, ``__bins``)."""

    def __init__(self, tenant: str, anchor_us: int) -> None:
        self.tenant = tenant
        self.anchor = anchor_us
        self.start = anchor_us - 30 * _DAY_US
        self.day0 = self.start - self.start % _DAY_US
        self.loaded = False
        self.done: set[str] = set()  # internal tables built (see build.require)
        #: What the world was read from (``.defender``: the Defender store), for builders of
        #: tables whose data lives there (None until loaded, and for data loaded from rows).
        self.sources: Any = None

    def ensure_loaded(self, conn: Any, sources: Any) -> None:
        """Read the tenant's machines, users and alerts and load the seed tables (once)."""
        if self.loaded:
            return
        self.sources = sources
        defender = sources.defender
        machines = list(getattr(defender, "iter_machines", lambda _t: [])(self.tenant))
        users = list(getattr(defender, "iter_users", lambda _t: [])(self.tenant)) if machines else []
        alerts = _alert_rows(defender, self.tenant) if machines else []
        self.load(conn, machines or fleet_from_seed(self.tenant), users, alerts)

    def load(
        self, conn: Any, machines: list[dict[str, Any]], users: list[dict[str, Any]], alerts: Iterable[Any]
    ) -> None:
        """Load the seed tables: API-shaped machines and users (with ``machineIds``), raw alert rows."""
        by_machine: dict[str, dict[str, Any]] = {}
        for u in users:
            for mid in u.get("machineIds") or []:
                by_machine.setdefault(mid, u)
        rows = (self._machine(i, m, by_machine.get(m["id"])) for i, m in enumerate(machines))
        load_rows(conn, "__machines", MACHINE_COLUMNS, rows)
        load_rows(conn, "__alerts_raw", RAW_ALERT_COLUMNS, alerts)
        titles = ", ".join(f"({quote_str(t)})" for t in STORIES if not t.startswith("__"))
        encoded = ", ".join(
            quote_str(t) for t, story in STORIES.items() if any("{b64}" in st.cmd for st in story.steps)
        )
        conn.execute(
            _ALERTS_FROM_RAW.format(
                tenant=quote_str(self.tenant),
                anchor=self.anchor,
                titles=titles,
                encoded=encoded,
                **_cradle_parts(),
            )
        )
        load_rows(conn, "__bins", BIN_COLUMNS, (_bin_row(b) for b in BINARIES))
        self.loaded = True

    def _machine(self, i: int, m: dict[str, Any], user: dict[str, Any] | None) -> tuple[Any, ...]:
        platform = str(m.get("osPlatform") or "Windows11")
        family = (
            "linux"
            if platform.lower().startswith(("linux", "ubuntu", "redhat", "debian"))
            else ("macos" if platform.lower().startswith("mac") else "windows")
        )
        fqdn = str(m.get("computerDnsName") or f"host{i}")
        host = fqdn.split(".")[0]
        if user is not None:
            name, domain, sid = (
                user["accountName"],
                str(user.get("accountDomain") or "contoso").upper(),
                user.get("accountSid"),
            )
        else:
            name = re.sub(r"[^a-z]", "", host.split("-")[-1].lower()) or "user"
            domain, sid = "CONTOSO", f"S-1-5-21-{int(_hex(self.tenant, 8), 16)}-{int(_hex(host, 8), 16)}-1001"
        if family != "windows":
            domain = host
        role = (
            "server"
            if "server" in platform.lower() or host.startswith(("srv", "sql", "dc"))
            else "workstation"
        )
        mac = next((a.get("macAddress") for a in m.get("ipAddresses") or [] if a.get("macAddress")), None)
        mac = mac or _hex(fqdn + ":mac", 12).upper()
        mac = "-".join(mac[k : k + 2] for k in range(0, 12, 2))
        oid = _guid(f"{self.tenant}:{name}")
        return (
            i,
            m["id"],
            fqdn,
            host,
            platform,
            family,
            role,
            m.get("version") or "",
            m.get("osBuild"),
            "64-bit" if (m.get("osArchitecture") or "64-bit") == "64-bit" else "32-bit",
            m.get("lastIpAddress") or f"10.1.{i // 250}.{i % 250 + 2}",
            m.get("lastExternalIpAddress") or "",
            mac,
            m.get("rbacGroupName") or "",
            m.get("aadDeviceId") or "",
            m.get("exposureLevel") or "",
            m.get("healthStatus") or "Active",
            m.get("onboardingStatus") or "Onboarded",
            _json_list(m.get("machineTags") or []),
            m.get("agentVersion") or "",
            m.get("deviceValue") or "Normal",
            name,
            domain,
            sid,
            f"{name}@contoso.com",
            oid,
            bool(m.get("isAadJoined") or m.get("aadDeviceId")),
        )


def _cradle_parts() -> dict[str, str]:
    """The encoded cradle's constant head, already in base64, and its tail (encoded per alert).

    UTF-16LE takes two bytes a character, so a head of a multiple of three characters is a whole
    number of base64 groups: base64(head + tail) == base64(head) + base64(tail).
    """
    cut = CRADLE.index("{ip}") // 3 * 3
    return {"cradle_head": quote_str(encoded_command(CRADLE[:cut])), "cradle_tail": quote_str(CRADLE[cut:])}


def _alert_rows(defender: Any, tenant: str) -> Iterable[Any]:
    """The tenant's alerts as :data:`RAW_ALERT_COLUMNS` rows, read straight from the Defender tables.

    A 50,000-alert tenant reads in well under a second this way, where building every alert in its
    API shape (``iter_alerts``) takes seconds. Stores without SQL access use ``iter_alerts``.
    """
    db = getattr(defender, "db", None)
    if db is None:
        yield from (_raw_from_alert(a) for a in getattr(defender, "iter_alerts", lambda _t: [])(tenant))
        return
    import orjson

    from mdekit.emulator.defender.alerts import TITLE_SQL
    from mdekit.emulator.defender.evidence import RECIPE
    from mdekit.emulator.defender.renderings import unpack_text

    sql = (
        f"SELECT a.id, a.machine_id, a.alert_creation_time, {TITLE_SQL.format(a='a.')}, a.category, a.severity, a.detection_source, "
        "json_extract(alert_json(a.data), '$.threatFamilyName'), "
        "coalesce(json_extract(alert_json(a.data), '$.mitreTechniques'), '[]'), "
        "e.evidence "
        "FROM def_alerts AS a JOIN def_alert_evidence AS e ON e.n = a.n WHERE a.tenant = tk(?) ORDER BY a.n"
    )
    with db.lock:  # plain tuples: a third faster than sqlite3.Row for 50,000 rows
        cursor = db.conn.cursor()
        cursor.row_factory = None
        try:
            rows = cursor.execute(sql, (tenant,)).fetchall()
        finally:
            cursor.close()
    loads, dumps = orjson.loads, orjson.dumps
    recipe = f"[{RECIPE},"
    for r in rows:
        text = unpack_text(r[9])
        if text.startswith(recipe):  # the seed's compact form: its values, as they are, in the JSON line
            yield dumps(r[:9])[:-1] + b"," + text[len(recipe) : -1].encode() + b",null]"
        else:
            yield (*r[:9], *_evidence_values(loads(text)), None)


def _evidence_values(evidence: list[dict[str, Any]]) -> tuple[Any, ...]:
    f: dict[str, Any] = {}
    ip = url = account = domain = sid = None
    for e in evidence:
        kind = e.get("entityType")
        if kind in ("Process", "File") and not f:
            f = e
        elif kind == "Ip":
            ip = e.get("ipAddress")
        elif kind == "Url":
            url = e.get("url")
        elif kind == "User":
            account, domain, sid = e.get("accountName"), e.get("domainName"), e.get("userSid")
    return (
        f.get("evidenceCreationTime"),
        f.get("sha1"),
        f.get("sha256"),
        f.get("fileName"),
        f.get("processId"),
        f.get("parentProcessId"),
        ip,
        url,
        account,
        domain,
        sid,
    )


def _raw_from_alert(a: dict[str, Any]) -> tuple[Any, ...]:
    import orjson

    return (
        a.get("id"),
        a.get("machineId"),
        a.get("alertCreationTime"),
        a.get("title"),
        a.get("category"),
        a.get("severity"),
        a.get("detectionSource"),
        a.get("threatFamilyName"),
        orjson.dumps(a.get("mitreTechniques") or []).decode(),
        *_evidence_values(a.get("evidence") or []),
        None,
    )


def _bin_row(b: Any) -> tuple[Any, ...]:
    signed = bool(b.signer)
    return (
        b.key,
        b.name,
        b.folder,
        b.digest("sha1"),
        b.digest("sha256"),
        b.digest("md5"),
        b.file_size,
        b.company,
        b.product,
        b.version,
        b.description,
        b.signer if signed else "",
        b.issuer if signed else "",
    )


def _json_list(items: list[Any]) -> str:
    import json

    return json.dumps(list(items), separators=(",", ":"))


def _guid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
