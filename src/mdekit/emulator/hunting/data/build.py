# ruff: noqa: E501 - generated SQL reads best on one line per column
"""Build each hunting table from the world's seed tables with one SQL statement (DuckDB).

Intermediate tables, built once per tenant and only when a table needs them:

* ``__inst``: script instances: one per alert (its storyline) and the background scripts of every
  machine and day (how many a day: the script's ``per_day``, varied per machine and day);
* ``__proc``: every process: session anchors (System, services.exe, lsass.exe, each day's
  explorer.exe, ...) and the ``proc`` steps of every instance, with pid, command line, account,
  integrity and parent;
* ``__ip``: each process with the columns a table needs to describe it (name, path, hashes,
  version info, account, parent's pid/name/creation time), so that DeviceProcessEvents is a process
  joined with its parent, and every other event table is its events joined with the process that
  initiated them.

Pseudo-random choices use DuckDB's ``hash()`` of stable keys, so the data is the same on every run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mdekit.emulator.hunting.data.catalog import ANCHORS, AUTOLOAD, BACKGROUND, POOLS, STORIES, Script, Step
from mdekit.emulator.hunting.data.world import DAYS, World
from mdekit.emulator.hunting.sql import quote_str
from mdekit.emulator.hunting.tables import HIDDEN_TABLES, TABLES, create_table

__all__ = ["BUILDERS", "build_table"]

_US = 1_000_000
_DAY = 86_400 * _US
_PLACE = re.compile(r"\{\{|\}\}|\{([a-z0-9]+)(?::([^}]*))?\}")
#: Per-day session anchors (a new userinit/explorer/outlook every day); the others start at boot.
_DAILY = {"USERINIT", "EXPLORER", "OUTLOOK"}
_ANCHOR_SPEC: list[tuple[str, str, str, str, str, str]] = [
    # code, parent, command line, account, integrity, platform
    ("SYSTEM", "", "", "system", "System", "windows"),
    ("SMSS", "SYSTEM", "\\SystemRoot\\System32\\smss.exe", "system", "System", "windows"),
    ("WININIT", "SMSS", "wininit.exe", "system", "System", "windows"),
    ("WINLOGON", "SMSS", "winlogon.exe", "system", "System", "windows"),
    ("SERVICES", "WININIT", "C:\\Windows\\system32\\services.exe", "system", "System", "windows"),
    ("LSASS", "WININIT", "C:\\Windows\\system32\\lsass.exe", "system", "System", "windows"),
    ("SVCHOST", "SERVICES", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", "system", "System", "windows"),
    ("WMI", "SVCHOST", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding", "networkservice", "System", "windows"),
    ("SPOOLER", "SERVICES", "C:\\Windows\\System32\\spoolsv.exe", "system", "System", "windows"),
    ("SQL", "SERVICES", '"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER', "networkservice", "High", "windows"),
    ("IIS", "SVCHOST", "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"DefaultAppPool\" -v \"v4.0\"", "networkservice", "High", "windows"),
    ("USERINIT", "WINLOGON", "C:\\Windows\\system32\\userinit.exe", "user", "Medium", "windows"),
    ("EXPLORER", "USERINIT", "C:\\Windows\\Explorer.EXE", "user", "Medium", "windows"),
    ("OUTLOOK", "EXPLORER", '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" ', "user", "Medium", "windows"),
    ("SSHD", "", "/usr/sbin/sshd -D", "root", "", "linux"),
    ("LAUNCHD", "", "/sbin/launchd", "root", "", "macos"),
]
_ACCOUNTS = {
    "user": ('i."user"', "i.domain", "i.sid", "i.upn", "i.oid"),
    "system": ("'system'", "'nt authority'", "'S-1-5-18'", "''", "''"),
    "localservice": ("'local service'", "'nt authority'", "'S-1-5-19'", "''", "''"),
    "networkservice": ("'network service'", "'nt authority'", "'S-1-5-20'", "''", "''"),
    "root": ("'root'", "i.host", "''", "''", "''"),
}


# --- templates ----------------------------------------------------------------------------------
def _placeholder(name: str, arg: str | None) -> str:
    if name == "pool":
        assert arg is not None
        values = POOLS[arg]
        items = ", ".join(quote_str(v) for v in values)
        return f"list_extract([{items}], CAST(hash(i.ik, rep, {quote_str(arg)}) % {len(values)} AS BIGINT) + 1)"
    if name == "n":
        lo, hi = (int(x) for x in str(arg).split("-"))
        return f"CAST({lo} + hash(i.ik, {quote_str('n:' + str(arg))}) % {hi - lo + 1} AS VARCHAR)"
    if name == "hex":
        return f"upper(substr(md5(concat(i.ik, {quote_str('hex' + str(arg))})), 1, {int(str(arg))}))"
    simple = {
        "user": 'i."user"',
        "domain": "i.domain",
        "host": "i.host",
        "fqdn": "i.fqdn",
        "ip": f"coalesce(i.ip, {_placeholder('pool', 'web_ips')})",
        "url": "coalesce(i.url, '')",
        "urlhost": f"coalesce(i.urlhost, {_placeholder('pool', 'benign_urls')})",
        "file": "coalesce(i.file, '')",
        "b64": "coalesce(i.b64, '')",
        "lsass": "CAST(i.lsass AS VARCHAR)",
        "family": "coalesce(i.family, '')",
    }
    if name not in simple:
        raise KeyError(f"unknown placeholder {{{name}}}")
    return simple[name]


def tpl(text: str) -> str:
    """A template (``"cmd /c {file}"``) as a SQL string expression over instance ``i`` and ``rep``."""
    parts: list[str] = []
    pos = 0
    for m in _PLACE.finditer(text):
        if m.start() > pos:
            parts.append(quote_str(text[pos : m.start()]))
        token = m.group(0)
        parts.append("'{'" if token == "{{" else "'}'" if token == "}}" else _placeholder(m.group(1), m.group(2)))
        pos = m.end()
    if pos < len(text):
        parts.append(quote_str(text[pos:]))
    if not parts:
        return "''"
    return parts[0] if len(parts) == 1 else f"concat({', '.join(parts)})"


def _code(anchor: str) -> int:
    return abs(ANCHORS[anchor][0])


def anchor_key(anchor: str, day_sql: str = "i.day") -> str:
    """SQL of the process key of a session anchor on machine ``i.mi``."""
    if anchor in _DAILY:
        return f"-(1000000000000 + (i.mi * 64 + {day_sql}) * 64 + {_code(anchor)})"
    return f"-(i.mi * 64 + {_code(anchor)})"


def _proc_key(ref: int | str) -> str:
    return anchor_key(ref) if isinstance(ref, str) else f"(i.ik * 64 + {ref})"


def _at(step: Step) -> str:
    base = f"i.t0 + CAST({step.at * _US} AS BIGINT)"
    if step.repeat > 1:
        base += f" + rep * CAST({step.every * _US} AS BIGINT)"
    if step.jitter:
        base += f" + CAST(hash(i.ik, rep, 'j{id(step) % 997}') % {int(step.jitter * 1000) + 1} AS BIGINT) * 1000"
    return base


def _from(script: str, step: Step) -> str:
    rep = f", range({step.repeat}) AS _r(rep)" if step.repeat > 1 else ", (SELECT 0 AS rep) AS _r"
    return f"FROM __inst AS i{rep} WHERE i.script = {quote_str(script)}"


def _scripts() -> list[tuple[str, Script]]:
    return [*BACKGROUND.items(), *STORIES.items()]


# --- intermediate tables ----------------------------------------------------------------------
def _inst(conn: Any, world: World) -> None:
    rows = []
    for sidx, (name, s) in enumerate(BACKGROUND.items()):
        rows.append(f"({sidx}, {quote_str(name)}, {s.per_day}, {s.hours[0]}, {s.hours[1]}, {quote_str(s.platform)}, {quote_str(s.role)})")
    scripts = f"(VALUES {', '.join(rows)}) AS s(sidx, script, per_day, hlo, hhi, platform, role)"
    lsass = "4 * (100 + hash(m.mi, 'lsass') % 300)"
    common = (
        'm."user", m.domain, m.sid, m.upn, m.oid, m.host, m.fqdn, m.family AS os, m.role, '
        f"{lsass} AS lsass"
    )
    day = f"CAST(({{t}} - {world.day0}) // {_DAY} AS INTEGER)"
    count = "CAST(floor(s.per_day + (hash(m.mi, d.day, s.sidx) % 1000) / 1000.0) AS BIGINT)"
    t0 = (
        f"{world.day0} + d.day * {_DAY} + s.hlo * 3600000000 + "
        f"CAST(hash(m.mi, d.day, s.sidx, c.k, 't') % ((s.hhi - s.hlo) * 3600000000) AS BIGINT)"
    )
    conn.execute(
        f"""CREATE OR REPLACE TABLE __inst AS
        SELECT a.ai AS ik, a.story AS script, a.mi, a.ts - 600000000 AS t0, {day.format(t="a.ts")} AS day,
               coalesce(nullif(a.account, ''), m."user") AS "user", coalesce(nullif(a.acct_domain, ''), m.domain) AS domain,
               coalesce(nullif(a.acct_sid, ''), m.sid) AS sid, coalesce(nullif(a.account, ''), m."user") || '@contoso.com' AS upn,
               m.oid, m.host, m.fqdn, m.family AS os, m.role, {lsass} AS lsass,
               a.ip, a.url, a.urlhost, a.file, lower(a.file) AS filekey, a.sha1, a.sha256, a.pid, a.b64, a.family
        FROM __alerts AS a JOIN __machines AS m USING (mi)
        UNION ALL BY NAME
        SELECT 1000000000 + ((m.mi * {DAYS} + d.day) * 128 + s.sidx) * 16 + c.k AS ik, s.script, m.mi, {t0} AS t0,
               d.day, {common}
        FROM __machines AS m, range({DAYS}) AS d(day), {scripts}, range({count}) AS c(k)
        WHERE s.platform = m.family AND (s.role = 'any' OR s.role = m.role)
          AND {t0} BETWEEN {world.start} AND {world.anchor}"""
    )


def _anchor_rows(world: World) -> str:
    parts = []
    for code, parent, cmd, account, integrity, platform in _ANCHOR_SPEC:
        daily = code in _DAILY
        day_sql = "d.day" if daily else "0"
        key = anchor_key(code, day_sql).replace("i.mi", "m.mi")
        pkey = (anchor_key(parent, day_sql).replace("i.mi", "m.mi") if parent else "NULL")
        boot = f"({world.start} - {_DAY} - CAST(hash(m.mi, 'boot') % (20 * {_DAY}) AS BIGINT))"
        created = (
            f"({world.day0} + d.day * {_DAY} + 6 * 3600000000 + CAST(hash(m.mi, d.day, 'logon') % 7200000000 AS BIGINT)"
            f" + {_code(code)} * 1500000)" if daily else f"({boot} + {_code(code)} * 2000000)"
        )
        pid = "4" if code == "SYSTEM" else (
            f"4 * (1000 + hash(m.mi, d.day, {quote_str(code)}) % 10000)" if daily else
            "4 * (100 + hash(m.mi, 'lsass') % 300)" if code == "LSASS" else f"4 * (50 + hash(m.mi, {quote_str(code)}) % 900)"
        )
        user, domain, sid, upn, oid = (v.replace("i.", "m.") for v in _ACCOUNTS[account])
        user = user.replace('m."user"', 'm."user"').replace("m.host", "m.host")
        days = f", range({DAYS}) AS d(day)" if daily else ""
        role = " AND m.role = 'server'" if code in ("SQL", "IIS") else " AND m.role = 'workstation'" if code == "OUTLOOK" else ""
        parts.append(
            f"SELECT {key} AS pk, m.mi, {'d.day' if daily else '0'} AS day, {quote_str(ANCHORS[code][1])} AS bin, "
            f"NULL AS fname, NULL AS folder, NULL AS sha1, NULL AS sha256, {quote_str(cmd)} AS cmd, {created} AS created, "
            f"{pid} AS pid, {pkey} AS parent, {user} AS acct_name, {domain} AS acct_domain, {sid} AS acct_sid, "
            f"{upn} AS acct_upn, {oid} AS acct_oid, {quote_str(account)} AS acct, {quote_str(integrity)} AS integrity, "
            f"m.host, m.role FROM __machines AS m{days} WHERE m.family = {quote_str(platform)}{role}"
        )
    return " UNION ALL ".join(parts)


def _proc(conn: Any, world: World) -> None:
    parts = [_anchor_rows(world)]
    for script, s in _scripts():
        for n, step in enumerate(s.steps):
            if step.kind != "proc":
                continue
            evidence = step.bin == "{file}"
            binkey = "i.filekey" if evidence else quote_str(step.bin)
            user, domain, sid, upn, oid = _ACCOUNTS[step.account]
            pid = "i.pid" if step.evidence else f"4 * (1000 + hash(i.ik, {n}) % 15000)"
            folder = "'C:\\Users\\' || i.\"user\" || '\\Downloads\\'" if evidence else "NULL"
            parts.append(
                f"SELECT i.ik * 64 + {n} AS pk, i.mi, i.day, {binkey} AS bin, "
                f"{'i.file' if evidence else 'NULL'} AS fname, {folder} AS folder, "
                f"{'i.sha1' if evidence else 'NULL'} AS sha1, {'i.sha256' if evidence else 'NULL'} AS sha256, "
                f"{tpl(step.cmd)} AS cmd, {_at(step)} AS created, {pid} AS pid, {_proc_key(step.parent)} AS parent, "
                f"{user} AS acct_name, {domain} AS acct_domain, {sid} AS acct_sid, {upn} AS acct_upn, {oid} AS acct_oid, "
                f"{quote_str(step.account)} AS acct, {quote_str(step.integrity)} AS integrity, i.host, i.role "
                f"{_from(script, step)}"
            )
    conn.execute("CREATE OR REPLACE TABLE __proc AS " + " UNION ALL BY NAME ".join(f"({p})" for p in parts))


def _ip(conn: Any, world: World) -> None:
    del world
    conn.execute(
        """CREATE OR REPLACE TABLE __ip AS
        SELECT p.pk, p.mi, p.parent, p.created, p.pid, p.cmd, p.bin,
               coalesce(p.fname, b.name, p.bin) AS name,
               coalesce(p.folder, b.folder, '') || coalesce(p.fname, b.name, p.bin) AS path,
               coalesce(p.sha1, b.sha1, '') AS sha1, coalesce(p.sha256, b.sha256, '') AS sha256,
               coalesce(b.md5, substr(md5(coalesce(p.sha1, '')), 1, 32)) AS md5,
               coalesce(b.size, 40960 + hash(p.sha1) % 900000) AS size,
               coalesce(b.company, '') AS company, coalesce(b.product, '') AS product, coalesce(b.version, '') AS version,
               coalesce(b.name, p.fname, '') AS internal, coalesce(b.description, '') AS description,
               coalesce(b.signer, '') AS signer,
               p.acct_name, p.acct_domain, p.acct_sid, p.acct_upn, p.acct_oid,
               CASE p.acct WHEN 'system' THEN 999 WHEN 'localservice' THEN 997 WHEN 'networkservice' THEN 996
                    ELSE 100000 + hash(p.mi, p.day, 'logonid') % 9000000 END AS logon_id,
               p.integrity,
               CASE WHEN p.acct <> 'user' THEN 'TokenElevationTypeDefault'
                    WHEN p.integrity = 'High' THEN 'TokenElevationTypeFull' ELSE 'TokenElevationTypeLimited' END AS elevation,
               CASE WHEN p.acct = 'user' THEN 1 ELSE 0 END AS session_id,
               CASE WHEN b.signer = 'Microsoft Windows' THEN 'OsVendor' WHEN b.signer LIKE 'Microsoft%' THEN 'Microsoft'
                    WHEN coalesce(b.signer, '') = '' THEN 'Unknown' ELSE 'ThirdParty' END AS signer_type,
               CASE WHEN coalesce(b.signer, '') = '' THEN 'Unsigned' ELSE 'Valid' END AS signature_status,
               pp.pid AS parent_pid, coalesce(pp.fname, pb.name, pp.bin, '') AS parent_name, pp.created AS parent_created
        FROM __proc AS p LEFT JOIN __bins AS b ON b.key = p.bin
        LEFT JOIN __proc AS pp ON pp.pk = p.parent LEFT JOIN __bins AS pb ON pb.key = pp.bin"""
    )


_REQUIRES = {"__inst": [], "__proc": ["__inst"], "__ip": ["__proc"]}
_INTERNAL: dict[str, Callable[[Any, World], None]] = {"__inst": _inst, "__proc": _proc, "__ip": _ip}


def require(conn: Any, world: World, name: str) -> None:
    """Build the intermediate table *name* (and what it needs) unless built already."""
    if name in world.done:
        return
    for dep in _REQUIRES[name]:
        require(conn, world, dep)
    _INTERNAL[name](conn, world)
    world.done.add(name)


# --- the initiating-process columns every event table shares --------------------------------------
def initiating(alias: str = "c", table: str = "") -> dict[str, str]:
    """Column -> SQL of the ``InitiatingProcess*`` columns from ``__ip`` row *alias*."""
    a = alias
    cols = {
        "InitiatingProcessAccountDomain": f"{a}.acct_domain",
        "InitiatingProcessAccountName": f"{a}.acct_name",
        "InitiatingProcessAccountSid": f"{a}.acct_sid",
        "InitiatingProcessAccountUpn": f"{a}.acct_upn",
        "InitiatingProcessAccountObjectId": f"{a}.acct_oid",
        "InitiatingProcessIntegrityLevel": f"{a}.integrity",
        "InitiatingProcessTokenElevation": f"{a}.elevation",
        "InitiatingProcessSHA1": f"{a}.sha1",
        "InitiatingProcessSHA256": f"{a}.sha256",
        "InitiatingProcessMD5": f"{a}.md5",
        "InitiatingProcessFileName": f"{a}.name",
        "InitiatingProcessFileSize": f"{a}.size",
        "InitiatingProcessVersionInfoCompanyName": f"{a}.company",
        "InitiatingProcessVersionInfoProductName": f"{a}.product",
        "InitiatingProcessVersionInfoProductVersion": f"{a}.version",
        "InitiatingProcessVersionInfoInternalFileName": f"{a}.internal",
        "InitiatingProcessVersionInfoOriginalFileName": f"{a}.internal",
        "InitiatingProcessVersionInfoFileDescription": f"{a}.description",
        "InitiatingProcessId": f"{a}.pid",
        "InitiatingProcessCommandLine": f"{a}.cmd",
        "InitiatingProcessCreationTime": f"{a}.created",
        "InitiatingProcessFolderPath": f"lower({a}.path)",
        "InitiatingProcessParentId": f"{a}.parent_pid",
        "InitiatingProcessParentFileName": f"{a}.parent_name",
        "InitiatingProcessParentCreationTime": f"{a}.parent_created",
        "InitiatingProcessLogonId": f"{a}.logon_id",
        "InitiatingProcessSignerType": f"{a}.signer_type",
        "InitiatingProcessSignatureStatus": f"{a}.signature_status",
        "InitiatingProcessSessionId": f"{a}.session_id",
        "IsInitiatingProcessRemoteSession": "FALSE",
    }
    names = {c for c, _ in TABLES[table]} if table else set(cols)
    return {k: v for k, v in cols.items() if k in names}


def _insert(conn: Any, world: World, table: str, select: dict[str, str], source: str) -> None:
    """``INSERT INTO table (cols) SELECT exprs FROM source``, keeping rows inside the window."""
    create_table(conn, table, TABLES[table])
    kinds = dict(TABLES[table])
    cols = ", ".join(f'"{c}"' for c in select)
    exprs = ", ".join(
        (f"coalesce({e}, '')" if kinds.get(c) == "string" else e) + f' AS "{c}"' for c, e in select.items()
    )
    conn.execute(
        f'INSERT INTO "{table}" ({cols}) SELECT * FROM (SELECT {exprs} FROM {source}) AS _x '
        f'WHERE "Timestamp" BETWEEN {world.start} AND {world.anchor}'
    )


def _device(alias: str = "m") -> dict[str, str]:
    return {"DeviceId": f"{alias}.id", "DeviceName": f"{alias}.fqdn"}


# --- tables -----------------------------------------------------------------------------------
def _process_events(conn: Any, world: World) -> None:
    require(conn, world, "__ip")
    select = {
        "Timestamp": "c.created",
        **_device(),
        "ActionType": "'ProcessCreated'",
        "FileName": "c.name",
        "FolderPath": "c.path",
        "SHA1": "c.sha1",
        "SHA256": "c.sha256",
        "MD5": "c.md5",
        "FileSize": "c.size",
        "ProcessVersionInfoCompanyName": "c.company",
        "ProcessVersionInfoProductName": "c.product",
        "ProcessVersionInfoProductVersion": "c.version",
        "ProcessVersionInfoInternalFileName": "c.internal",
        "ProcessVersionInfoOriginalFileName": "c.internal",
        "ProcessVersionInfoFileDescription": "c.description",
        "ProcessId": "c.pid",
        "ProcessCommandLine": "c.cmd",
        "ProcessIntegrityLevel": "c.integrity",
        "ProcessTokenElevation": "c.elevation",
        "ProcessCreationTime": "c.created",
        "AccountDomain": "c.acct_domain",
        "AccountName": "c.acct_name",
        "AccountSid": "c.acct_sid",
        "AccountUpn": "c.acct_upn",
        "AccountObjectId": "c.acct_oid",
        "LogonId": "c.logon_id",
        **initiating("p", "DeviceProcessEvents"),
        "ReportId": "c.pk % 100000000 + 1",
        "AdditionalFields": "'{\"ProcessStartKey\":' || CAST(hash(c.pk) % 10000000000000000 AS VARCHAR) || '}'",
        "CreatedProcessSessionId": "c.session_id",
        "IsProcessRemoteSession": "FALSE",
    }
    source = "__ip AS c JOIN __machines AS m USING (mi) JOIN __ip AS p ON p.pk = c.parent WHERE c.bin <> 'system'"
    _insert(conn, world, "DeviceProcessEvents", select, source)


def _event_steps(kind: str, fields: Callable[[Step, str], dict[str, str]]) -> list[str]:
    """One SELECT per event step of *kind*: the initiating process key, time and the step's columns."""
    parts = []
    for script, s in _scripts():
        for n, step in enumerate(s.steps):
            if step.kind != kind:
                continue
            cols = {"__by": _proc_key(step.by), "__ts": _at(step), "__key": f"i.ik * 4096 + {n} * 64 + rep",
                    "ActionType": quote_str(step.action), **fields(step, str(n))}
            parts.append("SELECT " + ", ".join(f'{v} AS "{k}"' for k, v in cols.items()) + " " + _from(script, step))
    return parts


def _events(conn: Any, world: World, table: str, kind: str, fields: Callable[[Step, str], dict[str, str]],
            extra: dict[str, str], more: list[str] | None = None) -> None:
    require(conn, world, "__ip")
    parts = _event_steps(kind, fields) + (more or [])
    union = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    names = {c for c, _ in TABLES[table]}
    step_cols = sorted({k for step_fields in _field_names(kind, fields) for k in step_fields} & names)
    select = {
        "Timestamp": "e.__ts",
        **_device(),
        "ActionType": "e.ActionType",
        **{c: f'e."{c}"' for c in step_cols},
        **initiating("c", table),
        **extra,
    }
    if "ReportId" in names:
        select["ReportId"] = "e.__key % 100000000 + 1"
    source = f"({union}) AS e JOIN __ip AS c ON c.pk = e.__by JOIN __machines AS m ON m.mi = c.mi"
    _insert(conn, world, table, select, source)


def _field_names(kind: str, fields: Callable[[Step, str], dict[str, str]]) -> list[set[str]]:
    return [set(fields(step, str(n))) for _, s in _scripts() for n, step in enumerate(s.steps) if step.kind == kind]


def _typed(column: str, value: str, table: str) -> str:
    kind = dict(TABLES[table]).get(column, "string")
    if kind in ("int", "long"):
        return f"TRY_CAST({value} AS BIGINT)"
    if kind == "bool":
        return f"TRY_CAST({value} AS BOOLEAN)"
    return value


def _net_fields(step: Step, n: str) -> dict[str, str]:
    f = {k: _typed(k, tpl(v), "DeviceNetworkEvents") for k, v in step.fields.items()}
    f.setdefault("AdditionalFields", "''")
    return f


def _network_events(conn: Any, world: World) -> None:
    extra = {
        "LocalIP": "m.ip",
        "LocalPort": "CAST(49152 + hash(e.__key, 'lport') % 16000 AS INTEGER)",
        "Protocol": "'Tcp'",
        "LocalIPType": "'Private'",
        "RemoteIPType": "CASE WHEN kql_ipv4_is_private(e.RemoteIP) THEN 'Private' ELSE 'Public' END",
    }
    _events(conn, world, "DeviceNetworkEvents", "net", _net_fields, extra)


def _file_fields(step: Step, n: str) -> dict[str, str]:
    name = tpl(step.fields["FileName"])
    f = {
        "FileName": name,
        "FolderPath": f"concat({tpl(step.fields['FolderPath'])}, {name})",
        **{k: tpl(v) for k, v in step.fields.items() if k not in ("FileName", "FolderPath")},
    }
    if step.fields["FileName"] == "{file}":
        f["SHA1"], f["SHA256"] = "i.sha1", "i.sha256"
    elif step.bin:
        f["SHA1"] = f"(SELECT sha1 FROM __bins WHERE key = {quote_str(step.bin)})"
        f["SHA256"] = f"(SELECT sha256 FROM __bins WHERE key = {quote_str(step.bin)})"
    else:
        f["SHA1"] = f"sha1(concat(i.ik, rep, {name}))"
        f["SHA256"] = f"sha256(concat(i.ik, rep, {name}))"
    f["MD5"] = f"md5(concat(i.ik, rep, {name}))"
    f["FileSize"] = "CAST(4096 + hash(i.ik, rep, 'size') % 5000000 AS BIGINT)"
    if "RequestSourcePort" in f:
        f["RequestSourcePort"] = _typed("RequestSourcePort", f["RequestSourcePort"], "DeviceFileEvents")
    return f


def _file_events(conn: Any, world: World) -> None:
    _events(conn, world, "DeviceFileEvents", "file", _file_fields, {"IsAzureInfoProtectionApplied": "FALSE"})


def _registry_events(conn: Any, world: World) -> None:
    _events(conn, world, "DeviceRegistryEvents", "reg", lambda s, n: {k: tpl(v) for k, v in s.fields.items()}, {})


def _image_fields(step: Step, n: str) -> dict[str, str]:
    if step.bin == "{file}":
        return {"FileName": "i.file", "FolderPath": "'C:\\Users\\Public\\' || i.file", "SHA1": "i.sha1", "SHA256": "i.sha256",
                "MD5": "md5(i.sha1)", "FileSize": "CAST(40960 + hash(i.sha1) % 900000 AS BIGINT)"}
    key = quote_str(step.bin)
    pick = "(SELECT {c} FROM __bins WHERE key = " + key + ")"
    return {"FileName": pick.format(c="name"), "FolderPath": pick.format(c="folder || name"), "SHA1": pick.format(c="sha1"),
            "SHA256": pick.format(c="sha256"), "MD5": pick.format(c="md5"), "FileSize": pick.format(c="size")}


def _image_load_events(conn: Any, world: World) -> None:
    require(conn, world, "__ip")
    autoload = []
    for exe, libs in AUTOLOAD.items():
        for k, lib in enumerate(libs):
            autoload.append(
                f"SELECT p.pk AS __by, p.created + {100_000 * (k + 1)} AS __ts, p.pk * 16 + {k} AS __key, 'ImageLoaded' AS ActionType, "
                f"b.name AS FileName, b.folder || b.name AS FolderPath, b.sha1 AS SHA1, b.sha256 AS SHA256, b.md5 AS MD5, b.size AS FileSize "
                f"FROM __proc AS p, __bins AS b WHERE p.bin = {quote_str(exe)} AND b.key = {quote_str(lib.lower())}"
            )
    _events(conn, world, "DeviceImageLoadEvents", "img", _image_fields, {}, autoload)


def _device_event_fields(step: Step, n: str) -> dict[str, str]:
    out = {k: tpl(v) for k, v in step.fields.items()}
    out.setdefault("AdditionalFields", "''")
    return out


def _device_events(conn: Any, world: World) -> None:
    _events(conn, world, "DeviceEvents", "evt", _device_event_fields, {"InitiatingProcessSessionId": "c.session_id"})


def _logon_fields(step: Step, n: str) -> dict[str, str]:
    f = {k: tpl(v) for k, v in step.fields.items()}
    f.setdefault("AccountName", 'i."user"')
    f.setdefault("AccountDomain", "i.domain")
    f.setdefault("AccountSid", "i.sid")
    f.setdefault("FailureReason", "''")
    f.setdefault("RemoteIP", "''")
    f.setdefault("Protocol", "'Negotiate'")
    f.setdefault("RemoteDeviceName", "''")
    return f


def _logon_events(conn: Any, world: World) -> None:
    require(conn, world, "__ip")
    daily = (
        "SELECT c.pk AS __by, e.created - 2000000 AS __ts, e.pk AS __key, 'LogonSuccess' AS ActionType, "
        "'Interactive' AS LogonType, e.acct_name AS AccountName, e.acct_domain AS AccountDomain, e.acct_sid AS AccountSid, "
        "'' AS FailureReason, '' AS RemoteIP, 'Negotiate' AS Protocol, '' AS RemoteDeviceName "
        "FROM __proc AS e JOIN __proc AS c ON c.pk = e.parent WHERE e.bin = 'userinit.exe'"
    )
    extra = {
        "IsLocalAdmin": "e.AccountName IN ('admin', 'administrator') OR hash(e.AccountName) % 10 = 0",
        "LogonId": "CAST(100000 + hash(e.__key, 'logon') % 9000000 AS BIGINT)",
        "RemoteIPType": "CASE WHEN e.RemoteIP = '' THEN '' WHEN kql_ipv4_is_private(e.RemoteIP) THEN 'Private' ELSE 'Public' END",
        "RemotePort": "CASE WHEN e.RemoteIP = '' THEN NULL ELSE CAST(49152 + hash(e.__key) % 16000 AS INTEGER) END",
        "AdditionalFields": "'{\"IsLocalLogon\":' || CASE WHEN e.RemoteIP = '' THEN 'true' ELSE 'false' END || '}'",
    }
    _events(conn, world, "DeviceLogonEvents", "logon", _logon_fields, extra, [daily])


def _device_info(conn: Any, world: World) -> None:
    select = {
        "Timestamp": f"{world.day0} + d.day * {_DAY} + CAST(hash(m.mi, d.day, 'info') % {_DAY} AS BIGINT)",
        **_device(),
        "ClientVersion": "m.agent",
        "PublicIP": "m.public_ip",
        "OSArchitecture": "m.arch",
        "OSPlatform": "m.platform",
        "OSBuild": "m.os_build",
        "IsAzureADJoined": "m.aad_joined",
        "JoinType": "CASE WHEN m.aad_joined THEN 'Hybrid Azure AD Join' ELSE 'Domain Joined' END",
        "AadDeviceId": "m.aad_id",
        "LoggedOnUsers": "CASE WHEN m.role = 'workstation' THEN '[{\"UserName\":\"' || m.\"user\" || '\",\"DomainName\":\"' || m.domain || '\",\"Sid\":\"' || m.sid || '\"}]' ELSE '[]' END",
        "OSVersion": "m.os_version",
        "MachineGroup": "m.rbac",
        "ReportId": "CAST(m.mi * 64 + d.day AS BIGINT)",
        "OnboardingStatus": "m.onboarding",
        "AdditionalFields": "'{}'",
        "DeviceCategory": "'Endpoint'",
        "DeviceType": "CASE WHEN m.role = 'server' THEN 'Server' ELSE 'Workstation' END",
        "OSDistribution": "CASE WHEN m.family = 'linux' THEN 'Ubuntu' ELSE '' END",
        "OSVersionInfo": "m.os_version",
        "IsInternetFacing": "FALSE",
        "SensorHealthState": "m.health",
        "IsExcluded": "FALSE",
        "ExposureLevel": "m.exposure",
        "AssetValue": "m.value",
        "DeviceManualTags": "m.tags",
        "DeviceDynamicTags": "'[]'",
        "ConnectivityType": "'Streamlined'",
    }
    _insert(conn, world, "DeviceInfo", select, f"__machines AS m, range({DAYS}) AS d(day)")


def _network_info(conn: Any, world: World) -> None:
    select = {
        "Timestamp": f"{world.day0} + d.day * {_DAY} + CAST(hash(m.mi, d.day, 'netinfo') % {_DAY} AS BIGINT)",
        **_device(),
        "NetworkAdapterName": "CASE WHEN m.role = 'server' THEN 'Ethernet0' ELSE 'Wi-Fi' END",
        "MacAddress": "m.mac",
        "NetworkAdapterType": "CASE WHEN m.role = 'server' THEN 'Ethernet' ELSE 'Wireless80211' END",
        "NetworkAdapterStatus": "'Up'",
        "TunnelType": "'None'",
        "ConnectedNetworks": "'[{\"Name\":\"contoso.local\",\"Description\":\"contoso.local\",\"IsConnectedToInternet\":true,\"Category\":\"Domain\"}]'",
        "DnsAddresses": "'[\"10.1.0.4\",\"10.1.0.5\"]'",
        "IPv4Dhcp": "'10.1.0.1'",
        "IPv6Dhcp": "''",
        "DefaultGateways": "'[\"' || split_part(m.ip, '.', 1) || '.' || split_part(m.ip, '.', 2) || '.' || split_part(m.ip, '.', 3) || '.1\"]'",
        "IPAddresses": "'[{\"IPAddress\":\"' || m.ip || '\",\"SubnetPrefix\":24,\"AddressType\":\"Private\"}]'",
        "ReportId": "CAST(m.mi * 64 + d.day AS BIGINT)",
        "NetworkAdapterVendor": "CASE WHEN m.role = 'server' THEN 'VMware, Inc.' ELSE 'Intel Corporation' END",
    }
    _insert(conn, world, "DeviceNetworkInfo", select, f"__machines AS m, range({DAYS}) AS d(day)")


def _certificate_info(conn: Any, world: World) -> None:
    require(conn, world, "__ip")
    select = {
        "Timestamp": "f.first",
        **_device(),
        "SHA1": "f.sha1",
        "IsSigned": "f.signer <> ''",
        "SignatureType": "CASE WHEN f.signer = 'Microsoft Windows' THEN 'Catalog' ELSE 'Embedded' END",
        "Signer": "f.signer",
        "SignerHash": "CASE WHEN f.signer = '' THEN '' ELSE sha1(f.signer) END",
        "Issuer": "coalesce(b.issuer, '')",
        "IssuerHash": "CASE WHEN coalesce(b.issuer, '') = '' THEN '' ELSE sha1(b.issuer) END",
        "CertificateSerialNumber": "CASE WHEN f.signer = '' THEN '' ELSE upper(substr(md5(f.signer || 'serial'), 1, 20)) END",
        "CrlDistributionPointUrls": "CASE WHEN f.signer = '' THEN '' ELSE '[\"http://www.microsoft.com/pkiops/crl/MicCodSigPCA2011_2011-07-08.crl\"]' END",
        "CertificateCreationTime": f"CASE WHEN f.signer = '' THEN NULL ELSE {world.start} - 200 * {_DAY} END",
        "CertificateExpirationTime": f"CASE WHEN f.signer = '' THEN NULL ELSE {world.start} + 200 * {_DAY} END",
        "CertificateCountersignatureTime": f"CASE WHEN f.signer = '' THEN NULL ELSE {world.start} - 100 * {_DAY} END",
        "IsTrusted": "f.signer <> ''",
        "IsRootSignerMicrosoft": "f.signer LIKE 'Microsoft%'",
        "ReportId": "CAST(hash(f.mi, f.sha1) % 100000000 AS BIGINT)",
    }
    files = (
        "(SELECT mi, sha1, min(signer) AS signer, min(bin) AS bin, greatest(min(created), "
        f"{world.start}) AS first FROM __ip WHERE sha1 <> '' GROUP BY mi, sha1) AS f"
    )
    _insert(conn, world, "DeviceFileCertificateInfo", select, f"{files} JOIN __machines AS m USING (mi) LEFT JOIN __bins AS b ON b.key = f.bin")


def _file_profiles(conn: Any, world: World) -> None:
    cols = HIDDEN_TABLES["FileProfiles"]
    create_table(conn, "__FileProfiles", cols)
    names = ", ".join(f'"{c}"' for c, _ in cols)
    conn.execute(
        f"""INSERT INTO __FileProfiles ({names})
        SELECT lower(sha1), lower(sha256), md5, CAST(size AS INTEGER), CAST(100000 + hash(key) % 90000000 AS INTEGER),
               {world.start} - 900 * {_DAY}, {world.anchor}, signer, issuer,
               CASE WHEN signer = '' THEN '' ELSE sha1(signer) END, signer <> '', signer LIKE 'Microsoft%',
               CASE WHEN signer = '' THEN 'Unsigned' ELSE 'SignedValid' END, ends_with(key, '.exe'), '', company, product, 'Available'
        FROM __bins
        UNION ALL
        SELECT lower(sha1), lower(any_value(sha256)), md5(sha1), CAST(40960 + hash(sha1) % 900000 AS INTEGER),
               CAST(1 + hash(sha1) % 40 AS INTEGER), min(ts) - 3 * {_DAY}, max(ts), '', '', '', FALSE, FALSE, 'Unsigned',
               ends_with(lower(any_value(file)), '.exe') OR ends_with(lower(any_value(file)), '.dll'), any_value(family), '', '', 'Available'
        FROM __alerts GROUP BY sha1"""
    )


def _alert_info(conn: Any, world: World) -> None:
    select = {
        "Timestamp": "a.ts",
        "AlertId": "a.alert_id",
        "Title": "a.title",
        "Category": "a.category",
        "Severity": "a.severity",
        "ServiceSource": "'Microsoft Defender for Endpoint'",
        "DetectionSource": "CASE a.det_source WHEN 'WindowsDefenderAv' THEN 'Antivirus' WHEN 'WindowsDefenderAtp' THEN 'EDR' WHEN 'AutomatedInvestigation' THEN 'Automated investigation' ELSE a.det_source END",
        "AttackTechniques": "a.techniques",
    }
    _insert(conn, world, "AlertInfo", select, "__alerts AS a")


def _alert_evidence(conn: Any, world: World) -> None:
    common = (
        "a.ts AS \"Timestamp\", a.alert_id AS AlertId, a.title AS Title, '[\"' || a.category || '\"]' AS Categories, "
        "a.techniques AS AttackTechniques, 'Microsoft Defender for Endpoint' AS ServiceSource, "
        "CASE a.det_source WHEN 'WindowsDefenderAv' THEN 'Antivirus' WHEN 'WindowsDefenderAtp' THEN 'EDR' ELSE a.det_source END AS DetectionSource, "
        "a.severity AS Severity, m.id AS DeviceId, m.fqdn AS DeviceName"
    )
    path = "'C:\\Users\\' || a.account || '\\Downloads\\' || a.file"
    parts = [
        f"SELECT {common}, 'Machine' AS EntityType, 'Impacted' AS EvidenceRole, '{{\"OSFamily\":\"' || m.family || '\"}}' AS AdditionalFields FROM __alerts AS a JOIN __machines AS m USING (mi)",
        f"SELECT {common}, 'File' AS EntityType, 'Related' AS EvidenceRole, a.file AS FileName, {path} AS FolderPath, a.sha1 AS SHA1, a.sha256 AS SHA256, CAST(40960 + hash(a.sha1) % 900000 AS BIGINT) AS FileSize, a.family AS ThreatFamily FROM __alerts AS a JOIN __machines AS m USING (mi)",
        f"SELECT {common}, 'Process' AS EntityType, 'Related' AS EvidenceRole, a.file AS FileName, {path} AS FolderPath, a.sha1 AS SHA1, a.sha256 AS SHA256, a.file || ' -q' AS ProcessCommandLine, a.account AS AccountName, a.acct_domain AS AccountDomain, a.acct_sid AS AccountSid FROM __alerts AS a JOIN __machines AS m USING (mi)",
        f"SELECT {common}, 'Ip' AS EntityType, 'Related' AS EvidenceRole, a.ip AS RemoteIP, 'Destination' AS EvidenceDirection FROM __alerts AS a JOIN __machines AS m USING (mi) WHERE a.url <> ''",
        f"SELECT {common}, 'Url' AS EntityType, 'Related' AS EvidenceRole, a.url AS RemoteUrl FROM __alerts AS a JOIN __machines AS m USING (mi) WHERE a.url <> ''",
        f"SELECT {common}, 'User' AS EntityType, 'Impacted' AS EvidenceRole, a.account AS AccountName, a.acct_domain AS AccountDomain, a.acct_sid AS AccountSid, lower(a.account) || '@contoso.com' AS AccountUpn FROM __alerts AS a JOIN __machines AS m USING (mi) WHERE a.acct_sid <> ''",
    ]
    create_table(conn, "AlertEvidence", TABLES["AlertEvidence"])
    union = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    conn.execute(f'INSERT INTO "AlertEvidence" BY NAME SELECT * FROM ({union}) AS _e WHERE "Timestamp" BETWEEN {world.start} AND {world.anchor}')


#: Table name -> builder(conn, world). A new table (TVM ...) adds its builder here (see tables.py).
BUILDERS: dict[str, Callable[[Any, World], None]] = {
    "DeviceProcessEvents": _process_events,
    "DeviceNetworkEvents": _network_events,
    "DeviceFileEvents": _file_events,
    "DeviceRegistryEvents": _registry_events,
    "DeviceImageLoadEvents": _image_load_events,
    "DeviceEvents": _device_events,
    "DeviceLogonEvents": _logon_events,
    "DeviceInfo": _device_info,
    "DeviceNetworkInfo": _network_info,
    "DeviceFileCertificateInfo": _certificate_info,
    "AlertInfo": _alert_info,
    "AlertEvidence": _alert_evidence,
    "__FileProfiles": _file_profiles,
}


def build_table(conn: Any, name: str, world: World) -> None:
    """Build hunting table *name* for *world* (an empty table when no builder knows it)."""
    builder = BUILDERS.get(name)
    if builder is None:
        cols = TABLES.get(name) or HIDDEN_TABLES.get(name.removeprefix("__"), [])
        create_table(conn, name, cols)
        return
    builder(conn, world)
