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
from mdekit.emulator.hunting.data.tvm import TVM_BUILDERS
from mdekit.emulator.hunting.data.world import DAYS, World
from mdekit.emulator.hunting.sql import quote_ident, quote_str
from mdekit.emulator.hunting.tables import HIDDEN_TABLES, TABLES, create_table, sql_type

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
    (
        "SVCHOST",
        "SERVICES",
        "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
        "system",
        "System",
        "windows",
    ),
    (
        "WMI",
        "SVCHOST",
        "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding",
        "networkservice",
        "System",
        "windows",
    ),
    ("SPOOLER", "SERVICES", "C:\\Windows\\System32\\spoolsv.exe", "system", "System", "windows"),
    (
        "SQL",
        "SERVICES",
        '"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER',
        "networkservice",
        "High",
        "windows",
    ),
    (
        "IIS",
        "SVCHOST",
        'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "DefaultAppPool" -v "v4.0"',
        "networkservice",
        "High",
        "windows",
    ),
    ("USERINIT", "WINLOGON", "C:\\Windows\\system32\\userinit.exe", "user", "Medium", "windows"),
    ("EXPLORER", "USERINIT", "C:\\Windows\\Explorer.EXE", "user", "Medium", "windows"),
    (
        "OUTLOOK",
        "EXPLORER",
        '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" ',
        "user",
        "Medium",
        "windows",
    ),
    ("SSHD", "", "/usr/sbin/sshd -D", "root", "", "linux"),
    ("LAUNCHD", "", "/sbin/launchd", "root", "", "macos"),
]
_ACCOUNTS = {
    "user": (
        'coalesce(i.acct, m."user")',
        "coalesce(i.acct_domain, m.domain)",
        "coalesce(i.acct_sid, m.sid)",
        "coalesce(i.acct || '@contoso.com', m.upn)",
        "m.oid",
    ),
    "system": ("'system'", "'nt authority'", "'S-1-5-18'", "''", "''"),
    "localservice": ("'local service'", "'nt authority'", "'S-1-5-19'", "''", "''"),
    "networkservice": ("'network service'", "'nt authority'", "'S-1-5-20'", "''", "''"),
    "root": ("'root'", "m.host", "''", "''", "''"),
}
#: The same for anchors (always the machine's own user).
_MACHINE_ACCOUNTS = {
    **_ACCOUNTS,
    "user": ('m."user"', "m.domain", "m.sid", "m.upn", "m.oid"),
}


# --- templates ----------------------------------------------------------------------------------
def _placeholder(name: str, arg: str | None) -> str:
    if name == "pool":
        assert arg is not None
        values = POOLS[arg]
        items = ", ".join(quote_str(v) for v in values)
        return (
            f"list_extract([{items}], CAST(hash(i.ik, rep, {quote_str(arg)}) % {len(values)} AS BIGINT) + 1)"
        )
    if name == "n":
        lo, hi = (int(x) for x in str(arg).split("-"))
        return f"CAST({lo} + hash(i.ik, {quote_str('n:' + str(arg))}) % {hi - lo + 1} AS VARCHAR)"
    if name == "hex":
        return f"upper(substr(md5(concat(i.ik, {quote_str('hex' + str(arg))})), 1, {int(str(arg))}))"
    simple = {
        "user": 'coalesce(i.acct, m."user")',
        "domain": "coalesce(i.acct_domain, m.domain)",
        "host": "m.host",
        "fqdn": "m.fqdn",
        "ip": f"coalesce(i.ip, {_placeholder('pool', 'web_ips')})",
        "url": "coalesce(i.url, '')",
        "urlhost": f"coalesce(i.urlhost, {_placeholder('pool', 'benign_urls')})",
        "file": "coalesce(i.file, '')",
        "b64": "coalesce(i.b64, '')",
        "lsass": "CAST(4 * (100 + hash(m.mi, 'lsass') % 300) AS VARCHAR)",
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
        parts.append(
            "'{'" if token == "{{" else "'}'" if token == "}}" else _placeholder(m.group(1), m.group(2))
        )
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


def _scripts() -> list[tuple[str, Script]]:
    return [*BACKGROUND.items(), *STORIES.items()]


#: Every step of every script with a global id: (sid, script, index in the script, step).
STEPS: list[tuple[int, str, int, Step]] = [
    (sid, name, n, step)
    for sid, (name, n, step) in enumerate(
        (name, n, step) for name, script in _scripts() for n, step in enumerate(script.steps)
    )
]


def _steps_table(conn: Any) -> None:
    rows = ", ".join(
        f"({sid}, {quote_str(script)}, {n}, {quote_str(st.kind)}, {st.repeat}, {int(st.at * _US)}, "
        f"{int(st.every * _US)}, {int(st.jitter * _US)})"
        for sid, script, n, st in STEPS
    )
    conn.execute(
        f"CREATE OR REPLACE TABLE __steps AS SELECT * FROM (VALUES {rows}) "
        "AS s(sid, script, step, kind, repeat, at_us, every_us, jitter_us)"
    )


def _case(kind: str, expr_for: Callable[[int, Step], str]) -> str:
    """``CASE s.sid WHEN ... THEN ...`` over the steps of *kind* (one expression when they agree)."""
    by_expr: dict[str, list[int]] = {}
    for sid, _script, n, step in STEPS:
        if step.kind == kind:
            by_expr.setdefault(expr_for(n, step), []).append(sid)
    if len(by_expr) == 1:
        return next(iter(by_expr))
    whens = " ".join(f"WHEN s.sid IN ({', '.join(map(str, sids))}) THEN {e}" for e, sids in by_expr.items())
    return f"(CASE {whens} END)"


def _steps_select(kind: str, columns: dict[str, Callable[[int, Step], str]]) -> str:
    """One SELECT producing a row per (instance, step of *kind*, repeat) with the given columns."""
    items = ", ".join(f'{_case(kind, fn)} AS "{name}"' for name, fn in columns.items())
    return (
        f"SELECT {items} FROM __inst AS i JOIN __steps AS s ON s.script = i.script AND s.kind = {quote_str(kind)} "
        "JOIN __machines AS m ON m.mi = i.mi, range(s.repeat) AS _r(rep)"
    )


_TIME = "i.t0 + s.at_us + rep * s.every_us + CAST(hash(i.ik, rep, s.sid) % (s.jitter_us + 1) AS BIGINT)"


#: Background script runs per tenant at most (about 200 machines' worth): a larger fleet gets
#: proportionally fewer runs per machine and day, so that its first query stays fast.
BACKGROUND_BUDGET = 160_000


def _inst(conn: Any, world: World) -> None:
    _steps_table(conn)
    rows = []
    for sidx, (name, script) in enumerate(BACKGROUND.items()):
        rows.append(
            f"({sidx}, {quote_str(name)}, {script.per_day}, {script.hours[0]}, {script.hours[1]}, "
            f"{quote_str(script.platform)}, {quote_str(script.role)})"
        )
    scripts = f"(VALUES {', '.join(rows)}) AS s(sidx, script, per_day, hlo, hhi, platform, role)"
    expected = (
        conn.execute(
            f"SELECT sum(s.per_day) * {DAYS} FROM __machines AS m, {scripts} "
            "WHERE s.platform = m.family AND (s.role = 'any' OR s.role = m.role)"
        ).fetchone()[0]
        or 0
    )
    scale = min(1.0, BACKGROUND_BUDGET / float(expected)) if expected else 1.0
    count = f"CAST(floor(s.per_day * {scale!r} + (hash(m.mi, d.day, s.sidx) % 1000) / 1000.0) AS BIGINT)"
    t0 = (
        f"{world.day0} + b.day * {_DAY} + b.hlo * 3600000000 + "
        f"CAST(hash(b.mi, b.day, b.sidx, b.k) % ((b.hhi - b.hlo) * 3600000000) AS BIGINT)"
    )
    # Narrow rows: machine attributes are joined where a step needs them.
    conn.execute(
        f"""CREATE OR REPLACE TABLE __inst AS
        SELECT a.ai AS ik, a.story AS script, a.mi, a.ts - 600000000 AS t0,
               CAST((a.ts - {world.day0}) // {_DAY} AS INTEGER) AS day,
               nullif(a.account, '') AS acct, nullif(a.acct_domain, '') AS acct_domain, nullif(a.acct_sid, '') AS acct_sid,
               a.ip, a.url, a.urlhost, a.file, lower(a.file) AS filekey, a.sha1, a.sha256, a.pid, a.b64, a.family
        FROM __alerts AS a
        UNION ALL BY NAME
        SELECT * FROM (
            SELECT 1000000000 + ((b.mi * {DAYS} + b.day) * 128 + b.sidx) * 16 + b.k AS ik, b.script, b.mi,
                   {t0} AS t0, b.day
            FROM (
                SELECT m.mi, d.day, s.sidx, s.script, s.hlo, s.hhi, unnest(range({count})) AS k
                FROM __machines AS m, range({DAYS}) AS d(day), {scripts}
                WHERE s.platform = m.family AND (s.role = 'any' OR s.role = m.role)
            ) AS b
        ) WHERE t0 BETWEEN {world.start} AND {world.anchor}"""
    )


def _anchors(world: World) -> str:
    """The session anchor processes: boot ones per machine, daily ones per machine and day."""
    rows = []
    for code, parent, cmd, account, integrity, platform in _ANCHOR_SPEC:
        role = "server" if code in ("SQL", "IIS") else "workstation" if code == "OUTLOOK" else ""
        rows.append(
            f"({_code(code)}, {quote_str(ANCHORS[code][1])}, {quote_str(cmd)}, {_code(parent) if parent else 0}, "
            f"{code in _DAILY}, {parent in _DAILY}, {quote_str(account)}, {quote_str(integrity)}, {quote_str(platform)}, "
            f"{quote_str(role)}, {quote_str(code)})"
        )
    table = (
        f"(VALUES {', '.join(rows)}) AS a(code, bin, cmd, parent_code, daily, parent_daily, account, integrity, "
        "platform, role, name)"
    )

    def account_sql(k: int) -> str:
        return (
            "(CASE a.account "
            + " ".join(f"WHEN {quote_str(kind)} THEN {cols[k]}" for kind, cols in _MACHINE_ACCOUNTS.items())
            + " END)"
        )

    day_key = "-(1000000000000 + (m.mi * 64 + d.day) * 64 + {code})"
    boot_key = "-(m.mi * 64 + {code})"
    boot = f"({world.start} - {_DAY} - CAST(hash(m.mi, 'boot') % (20 * {_DAY}) AS BIGINT))"
    created = (
        f"CASE WHEN a.daily THEN {world.day0} + d.day * {_DAY} + 6 * 3600000000 "
        f"+ CAST(hash(m.mi, d.day, 'logon') % 7200000000 AS BIGINT) + a.code * 1500000 "
        f"ELSE {boot} + a.code * 2000000 END"
    )
    pid = (
        "CASE WHEN a.name = 'SYSTEM' THEN 4 WHEN a.daily THEN 4 * (1000 + hash(m.mi, d.day, a.name) % 10000) "
        "WHEN a.name = 'LSASS' THEN 4 * (100 + hash(m.mi, 'lsass') % 300) ELSE 4 * (50 + hash(m.mi, a.name) % 900) END"
    )
    parent = (
        "CASE WHEN a.parent_code = 0 THEN NULL WHEN a.parent_daily THEN "
        + day_key.format(code="a.parent_code")
        + " ELSE "
        + boot_key.format(code="a.parent_code")
        + " END"
    )
    key = f"CASE WHEN a.daily THEN {day_key.format(code='a.code')} ELSE {boot_key.format(code='a.code')} END"
    return (
        f"SELECT {key} AS pk, m.mi, d.day, a.bin, NULL AS fname, NULL AS folder, NULL AS sha1, NULL AS sha256, "
        f"a.cmd, {created} AS created, {pid} AS pid, {parent} AS parent, {account_sql(0)} AS acct_name, "
        f"{account_sql(1)} AS acct_domain, {account_sql(2)} AS acct_sid, {account_sql(3)} AS acct_upn, "
        f"{account_sql(4)} AS acct_oid, a.account AS acct, a.integrity, m.host, m.role "
        f"FROM __machines AS m, range({DAYS}) AS d(day), {table} "
        "WHERE a.platform = m.family AND (a.role = '' OR a.role = m.role) AND (a.daily OR d.day = 0)"
    )


def _proc(conn: Any, world: World) -> None:
    def evidence(step: Step) -> bool:
        return step.bin == "{file}"

    def account(k: int) -> Callable[[int, Step], str]:
        return lambda n, st: _ACCOUNTS[st.account][k]

    steps = _steps_select(
        "proc",
        {
            "pk": lambda n, st: "i.ik * 64 + s.step",
            "mi": lambda n, st: "i.mi",
            "day": lambda n, st: "i.day",
            "bin": lambda n, st: "i.filekey" if evidence(st) else quote_str(st.bin),
            "fname": lambda n, st: "i.file" if evidence(st) else "NULL",
            "folder": lambda n, st: (
                "'C:\\Users\\' || coalesce(i.acct, m.\"user\") || '\\Downloads\\'" if evidence(st) else "NULL"
            ),
            "sha1": lambda n, st: "i.sha1" if evidence(st) else "NULL",
            "sha256": lambda n, st: "i.sha256" if evidence(st) else "NULL",
            "cmd": lambda n, st: tpl(st.cmd),
            "created": lambda n, st: _TIME,
            "pid": lambda n, st: "i.pid" if st.evidence else "4 * (1000 + hash(i.ik, s.step) % 15000)",
            "parent": lambda n, st: _proc_key(st.parent),
            "acct_name": account(0),
            "acct_domain": account(1),
            "acct_sid": account(2),
            "acct_upn": account(3),
            "acct_oid": account(4),
            "acct": lambda n, st: quote_str(st.account),
            "integrity": lambda n, st: quote_str(st.integrity),
            "host": lambda n, st: "m.host",
            "role": lambda n, st: "m.role",
        },
    )
    conn.execute(f"CREATE OR REPLACE TABLE __proc AS ({_anchors(world)}) UNION ALL BY NAME ({steps})")


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


def _insert(
    conn: Any, world: World, table: str, select: dict[str, str], source: str, *, view: bool = False
) -> None:
    """``INSERT INTO table (cols) SELECT exprs FROM source``, keeping rows inside the window.

    With *view*, *table* becomes a view over *source* instead: nothing is copied, and a query
    computes only the columns it reads (storing a wide table of strings costs far more than
    reading one through its joins).
    """
    kinds = dict(TABLES[table])
    if view:
        exprs = ", ".join(
            f"CAST({_coalesced(select[c], k) if c in select else _empty(k)} AS {sql_type(k)}) AS {quote_ident(c)}"
            for c, k in TABLES[table]
        )
        conn.execute(
            f"CREATE OR REPLACE VIEW {quote_ident(table)} AS SELECT * FROM (SELECT {exprs} FROM {source}) AS _x "
            f'WHERE "Timestamp" BETWEEN {world.start} AND {world.anchor}'
        )
        return
    create_table(conn, table, TABLES[table])
    cols = ", ".join(f'"{c}"' for c in select)
    exprs = ", ".join(f'{_coalesced(e, kinds.get(c, ""))} AS "{c}"' for c, e in select.items())
    conn.execute(
        f'INSERT INTO "{table}" ({cols}) SELECT * FROM (SELECT {exprs} FROM {source}) AS _x '
        f'WHERE "Timestamp" BETWEEN {world.start} AND {world.anchor}'
    )


def _coalesced(expr: str, kind: str) -> str:
    """KQL strings are never null: a null string reads as ''."""
    return f"coalesce({expr}, '')" if kind == "string" else expr


def _empty(kind: str) -> str:
    return "''" if kind == "string" else "NULL"


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
    source = (
        "__ip AS c JOIN __machines AS m USING (mi) JOIN __ip AS p ON p.pk = c.parent WHERE c.bin <> 'system'"
    )
    _insert(conn, world, "DeviceProcessEvents", select, source, view=True)


def _events(
    conn: Any,
    world: World,
    table: str,
    kind: str,
    fields: Callable[[Step, str], dict[str, str]],
    extra: dict[str, str],
    more: list[str] | None = None,
) -> None:
    """Rows of *table* from the script steps of *kind* (and the SELECTs in *more*)."""
    require(conn, world, "__ip")
    names = {c for c, _ in TABLES[table]}
    step_cols = sorted({k for sid, _s, n, st in STEPS if st.kind == kind for k in fields(st, str(n))} & names)
    columns: dict[str, Callable[[int, Step], str]] = {
        "__by": lambda n, st: _proc_key(st.by),
        "__ts": lambda n, st: _TIME,
        "__key": lambda n, st: "i.ik * 4096 + s.step * 64 + rep",
        "ActionType": lambda n, st: quote_str(st.action),
    }
    for col in step_cols:
        columns[col] = _field_of(fields, col)
    parts = [_steps_select(kind, columns), *(more or [])]
    union = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    # Expressions over the event alone are computed once, into the stored rows (a regex per row
    # in the view would run again in every query); those needing the device or process stay.
    own = {c: e for c, e in extra.items() if not re.search(r"\b[cm]\.", e)}
    if "ReportId" in names:
        own["ReportId"] = "e.__key % 100000000 + 1"
    select = {
        "Timestamp": "e.__ts",
        **_device(),
        "ActionType": "e.ActionType",
        **{c: f'e."{c}"' for c in [*step_cols, *own]},
        **initiating("c", table),
        **{c: e for c, e in extra.items() if c not in own},
    }
    # The events' own columns are stored (narrow); the view adds the initiating process and device.
    stored = "__ev_" + table
    computed = "".join(f", {e} AS {quote_ident(c)}" for c, e in own.items())
    conn.execute(
        f"CREATE OR REPLACE TABLE {quote_ident(stored)} AS SELECT *{computed} FROM ({union}) AS e "
        f"WHERE __ts BETWEEN {world.start} AND {world.anchor}"
    )
    source = f"{quote_ident(stored)} AS e JOIN __ip AS c ON c.pk = e.__by JOIN __machines AS m ON m.mi = c.mi"
    _insert(conn, world, table, select, source, view=True)


def _field_of(fields: Callable[[Step, str], dict[str, str]], col: str) -> Callable[[int, Step], str]:
    return lambda n, st: fields(st, str(n)).get(col, "NULL")


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
    _events(
        conn, world, "DeviceRegistryEvents", "reg", lambda s, n: {k: tpl(v) for k, v in s.fields.items()}, {}
    )


def _image_fields(step: Step, n: str) -> dict[str, str]:
    if step.bin == "{file}":
        return {
            "FileName": "i.file",
            "FolderPath": "'C:\\Users\\Public\\' || i.file",
            "SHA1": "i.sha1",
            "SHA256": "i.sha256",
            "MD5": "md5(i.sha1)",
            "FileSize": "CAST(40960 + hash(i.sha1) % 900000 AS BIGINT)",
        }
    key = quote_str(step.bin)
    pick = "(SELECT {c} FROM __bins WHERE key = " + key + ")"
    return {
        "FileName": pick.format(c="name"),
        "FolderPath": pick.format(c="folder || name"),
        "SHA1": pick.format(c="sha1"),
        "SHA256": pick.format(c="sha256"),
        "MD5": pick.format(c="md5"),
        "FileSize": pick.format(c="size"),
    }


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
    _events(
        conn,
        world,
        "DeviceEvents",
        "evt",
        _device_event_fields,
        {"InitiatingProcessSessionId": "c.session_id"},
    )


def _logon_fields(step: Step, n: str) -> dict[str, str]:
    f = {k: tpl(v) for k, v in step.fields.items()}
    f.setdefault("AccountName", _ACCOUNTS["user"][0])
    f.setdefault("AccountDomain", _ACCOUNTS["user"][1])
    f.setdefault("AccountSid", _ACCOUNTS["user"][2])
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
        "LoggedOnUsers": 'CASE WHEN m.role = \'workstation\' THEN \'[{"UserName":"\' || m."user" || \'","DomainName":"\' || m.domain || \'","Sid":"\' || m.sid || \'"}]\' ELSE \'[]\' END',
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
        "ConnectedNetworks": '\'[{"Name":"contoso.local","Description":"contoso.local","IsConnectedToInternet":true,"Category":"Domain"}]\'',
        "DnsAddresses": '\'["10.1.0.4","10.1.0.5"]\'',
        "IPv4Dhcp": "'10.1.0.1'",
        "IPv6Dhcp": "''",
        "DefaultGateways": "'[\"' || split_part(m.ip, '.', 1) || '.' || split_part(m.ip, '.', 2) || '.' || split_part(m.ip, '.', 3) || '.1\"]'",
        "IPAddresses": '\'[{"IPAddress":"\' || m.ip || \'","SubnetPrefix":24,"AddressType":"Private"}]\'',
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
    _insert(
        conn,
        world,
        "DeviceFileCertificateInfo",
        select,
        f"{files} JOIN __machines AS m USING (mi) LEFT JOIN __bins AS b ON b.key = f.bin",
    )


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
    conn.execute(
        f'INSERT INTO "AlertEvidence" BY NAME SELECT * FROM ({union}) AS _e WHERE "Timestamp" BETWEEN {world.start} AND {world.anchor}'
    )


#: Table name -> builder(conn, world). A new table adds its builder here (see tables.py).
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
    **TVM_BUILDERS,
}


def build_table(conn: Any, name: str, world: World) -> None:
    """Build hunting table *name* for *world* (an empty table when no builder knows it)."""
    builder = BUILDERS.get(name)
    if builder is None:
        cols = TABLES.get(name) or HIDDEN_TABLES.get(name.removeprefix("__"), [])
        create_table(conn, name, cols)
        return
    builder(conn, world)
