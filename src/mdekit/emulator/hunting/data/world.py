"""A tenant's "world" for hunting data: its machines, users and alerts, loaded into DuckDB once.

Everything else is derived from these seed tables by SQL (:mod:`.build`), vectorized inside the
engine: a 50,000-alert tenant's world loads in about a second, and each hunting table is then one
``INSERT ... SELECT``. The same tenant, Defender data and anchor hour give the same rows.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import tempfile
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.clock import parse_time
from mdekit.emulator.hunting.data.catalog import BINARIES, CRADLE, encoded_command, story_for
from mdekit.emulator.hunting.sql import quote_ident

__all__ = ["DAYS", "World", "fleet_from_seed", "load_csv"]

DAYS = 31  # the 30-day window spans 31 calendar days
_DAY_US = 86_400_000_000
_NULL = "\\N"


def load_csv(conn: Any, table: str, columns: list[tuple[str, str]], rows: Iterable[tuple[Any, ...]]) -> None:
    """Create *table* from Python rows through a CSV file (DuckDB's fastest path without numpy)."""
    fd, path = tempfile.mkstemp(prefix="mdekit-hunting-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            for row in rows:
                writer.writerow([_NULL if v is None else v for v in row])
        spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
        conn.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table)} AS SELECT * FROM read_csv('{path}', header = false, "
            f"auto_detect = false, columns = {{{spec}}}, quote = '\"', escape = '\"', nullstr = '{_NULL}', "
            "strict_mode = false)"
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


def _us(text: str | None, default: int) -> int:
    if not text:
        return default
    try:
        dt = parse_time(text)
    except ValueError:
        return default
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


MACHINE_COLUMNS = [
    ("mi", "INTEGER"), ("id", "VARCHAR"), ("fqdn", "VARCHAR"), ("host", "VARCHAR"), ("platform", "VARCHAR"),
    ("family", "VARCHAR"), ("role", "VARCHAR"), ("os_version", "VARCHAR"), ("os_build", "BIGINT"),
    ("arch", "VARCHAR"), ("ip", "VARCHAR"), ("public_ip", "VARCHAR"), ("mac", "VARCHAR"), ("rbac", "VARCHAR"),
    ("aad_id", "VARCHAR"), ("exposure", "VARCHAR"), ("health", "VARCHAR"), ("onboarding", "VARCHAR"),
    ("tags", "VARCHAR"), ("agent", "VARCHAR"), ("value", "VARCHAR"), ("user", "VARCHAR"), ("domain", "VARCHAR"),
    ("sid", "VARCHAR"), ("upn", "VARCHAR"), ("oid", "VARCHAR"), ("aad_joined", "BOOLEAN"),
]
ALERT_COLUMNS = [
    ("ai", "BIGINT"), ("alert_id", "VARCHAR"), ("mi", "INTEGER"), ("ts", "BIGINT"), ("title", "VARCHAR"),
    ("category", "VARCHAR"), ("severity", "VARCHAR"), ("det_source", "VARCHAR"), ("techniques", "VARCHAR"),
    ("family", "VARCHAR"), ("file", "VARCHAR"), ("sha1", "VARCHAR"), ("sha256", "VARCHAR"), ("folder", "VARCHAR"),
    ("pid", "BIGINT"), ("ppid", "BIGINT"), ("ip", "VARCHAR"), ("url", "VARCHAR"), ("urlhost", "VARCHAR"),
    ("account", "VARCHAR"), ("acct_domain", "VARCHAR"), ("acct_sid", "VARCHAR"), ("story", "VARCHAR"),
    ("b64", "VARCHAR"), ("evidence_ts", "BIGINT"),
]
BIN_COLUMNS = [
    ("key", "VARCHAR"), ("name", "VARCHAR"), ("folder", "VARCHAR"), ("sha1", "VARCHAR"), ("sha256", "VARCHAR"),
    ("md5", "VARCHAR"), ("size", "BIGINT"), ("company", "VARCHAR"), ("product", "VARCHAR"), ("version", "VARCHAR"),
    ("description", "VARCHAR"), ("signer", "VARCHAR"), ("issuer", "VARCHAR"),
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

    def ensure_loaded(self, conn: Any, sources: Any) -> None:
        """Read the tenant's machines, users and alerts and load the seed tables (once)."""
        if self.loaded:
            return
        defender = sources.defender
        machines = list(getattr(defender, "iter_machines", lambda _t: [])(self.tenant))
        alerts = list(getattr(defender, "iter_alerts", lambda _t: [])(self.tenant)) if machines else []
        users = list(getattr(defender, "iter_users", lambda _t: [])(self.tenant)) if machines else []
        self.load(conn, machines or fleet_from_seed(self.tenant), users, alerts)

    def load(
        self, conn: Any, machines: list[dict[str, Any]], users: list[dict[str, Any]], alerts: list[dict[str, Any]]
    ) -> None:
        """Load the seed tables from API-shaped machines, users (with ``machineIds``) and alerts."""
        by_machine: dict[str, dict[str, Any]] = {}
        for u in users:
            for mid in u.get("machineIds") or []:
                by_machine.setdefault(mid, u)
        index = {m["id"]: i for i, m in enumerate(machines)}
        load_csv(conn, "__machines", MACHINE_COLUMNS, (self._machine(i, m, by_machine.get(m["id"])) for i, m in enumerate(machines)))
        load_csv(conn, "__alerts", ALERT_COLUMNS, self._alerts(alerts, index, machines, by_machine))
        load_csv(conn, "__bins", BIN_COLUMNS, (_bin_row(b) for b in BINARIES))
        self.loaded = True

    def _machine(self, i: int, m: dict[str, Any], user: dict[str, Any] | None) -> tuple[Any, ...]:
        platform = str(m.get("osPlatform") or "Windows11")
        family = "linux" if platform.lower().startswith(("linux", "ubuntu", "redhat", "debian")) else (
            "macos" if platform.lower().startswith("mac") else "windows"
        )
        fqdn = str(m.get("computerDnsName") or f"host{i}")
        host = fqdn.split(".")[0]
        if user is not None:
            name, domain, sid = user["accountName"], str(user.get("accountDomain") or "contoso").upper(), user.get("accountSid")
        else:
            name = re.sub(r"[^a-z]", "", host.split("-")[-1].lower()) or "user"
            domain, sid = "CONTOSO", f"S-1-5-21-{int(_hex(self.tenant, 8), 16)}-{int(_hex(host, 8), 16)}-1001"
        if family != "windows":
            domain = host
        role = "server" if "server" in platform.lower() or host.startswith(("srv", "sql", "dc")) else "workstation"
        mac = next((a.get("macAddress") for a in m.get("ipAddresses") or [] if a.get("macAddress")), None)
        mac = mac or _hex(fqdn + ":mac", 12).upper()
        mac = "-".join(mac[k : k + 2] for k in range(0, 12, 2))
        oid = _guid(f"{self.tenant}:{name}")
        return (
            i, m["id"], fqdn, host, platform, family, role, m.get("version") or "", m.get("osBuild"),
            "64-bit" if (m.get("osArchitecture") or "64-bit") == "64-bit" else "32-bit",
            m.get("lastIpAddress") or f"10.1.{i // 250}.{i % 250 + 2}", m.get("lastExternalIpAddress") or "",
            mac, m.get("rbacGroupName") or "", m.get("aadDeviceId") or "", m.get("exposureLevel") or "",
            m.get("healthStatus") or "Active", m.get("onboardingStatus") or "Onboarded",
            _json_list(m.get("machineTags") or []), m.get("agentVersion") or "", m.get("deviceValue") or "Normal",
            name, domain, sid, f"{name}@contoso.com", oid, bool(m.get("isAadJoined") or m.get("aadDeviceId")),
        )

    def _alerts(
        self,
        alerts: list[dict[str, Any]],
        index: dict[str, int],
        machines: list[dict[str, Any]],
        users: dict[str, dict[str, Any]],
    ) -> Iterable[tuple[Any, ...]]:
        for ai, a in enumerate(alerts):
            mi = index.get(a.get("machineId") or "")
            if mi is None:
                continue
            ev = {e.get("entityType"): e for e in a.get("evidence") or []}
            f = ev.get("Process") or ev.get("File") or {}
            ipe, urle, usere = ev.get("Ip") or {}, ev.get("Url") or {}, ev.get("User") or {}
            ts = _us(a.get("alertCreationTime"), self.anchor)
            ev_ts = _us(f.get("evidenceCreationTime") or a.get("firstEventTime"), ts)
            url = urle.get("url") or ""
            urlhost = re.sub(r"^[a-z]+://", "", url).split("/")[0] if url else ""
            seed = f"{self.tenant}:{a.get('id')}"
            ip = ipe.get("ipAddress") or _ip(seed)
            file = f.get("fileName") or "payload.exe"
            user = users.get(a.get("machineId") or "") or {}
            account = usere.get("accountName") or user.get("accountName") or "user"
            cradle = CRADLE.replace("{ip}", ip)
            yield (
                ai, a.get("id") or f"da{ai}", mi, ts, a.get("title") or "", a.get("category") or "",
                a.get("severity") or "", a.get("detectionSource") or "", _json_list(a.get("mitreTechniques") or []),
                a.get("threatFamilyName") or "", file, f.get("sha1") or _hex(seed + ":sha1", 40),
                f.get("sha256") or _hex(seed + ":sha256", 64), f.get("filePath") or "",
                f.get("processId") or 1000 + int(_hex(seed + ":pid", 4), 16) * 4 % 60000,
                f.get("parentProcessId"), ip, url, urlhost or _host(seed), account,
                (usere.get("domainName") or user.get("accountDomain") or "CONTOSO").upper(),
                usere.get("userSid") or user.get("accountSid") or "",
                story_for(a.get("title") or "", a.get("category") or ""), encoded_command(cradle), ev_ts,
            )


def _bin_row(b: Any) -> tuple[Any, ...]:
    signed = bool(b.signer)
    return (
        b.key, b.name, b.folder, b.digest("sha1"), b.digest("sha256"), b.digest("md5"), b.file_size,
        b.company, b.product, b.version, b.description, b.signer if signed else "", b.issuer if signed else "",
    )


def _json_list(items: list[Any]) -> str:
    import json

    return json.dumps(list(items), separators=(",", ":"))


def _guid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ip(seed: str) -> str:
    h = bytes.fromhex(_hex(seed + ":ip", 8))
    return f"{(h[0] % 180) + 40}.{h[1]}.{h[2]}.{(h[3] % 253) + 1}"


def _host(seed: str) -> str:
    return f"{_hex(seed + ':host', 10)}.example.net"
