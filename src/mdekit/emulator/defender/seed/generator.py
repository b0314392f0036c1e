"""Deterministic, realistic tenants: machines, users, files, alerts with evidence, incidents, investigations.

The same ``seed`` gives the same ids, names, values and relations; times are laid out backwards
from the virtual clock's current hour, so data looks recent whenever it is seeded. Everything is
written with ``executemany`` in one transaction: 100,000 alerts and 10,000 machines take seconds.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from typing import Any

from mdekit.emulator.defender.renderings import save_dictionary
from mdekit.emulator.defender.seed.bulk import bulk_load, write_once
from mdekit.emulator.defender.seed.pipeline import generated
from mdekit.emulator.defender.seed.pools import (
    ALERT_TEMPLATES,
    DOMAINS,
    FILE_NAMES,
    FIRST_NAMES,
    PLATFORMS,
    RBAC_GROUPS,
    TAGS,
)
from mdekit.emulator.defender.seed.stamps import Stamper

__all__ = ["SeedResult", "fmt", "seed_tenant"]

DAY = 86_400
_DOMAIN = "contoso"


@dataclass(frozen=True)
class SeedResult:
    """What a seed created, by family."""

    counts: dict[str, int]


def fmt(ts: float) -> str:
    """Epoch seconds in the service's 7-digit UTC format."""
    whole = int(ts)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((ts - whole) * 10_000_000):07d}Z"


def _table(*weighted: tuple[Any, int]) -> tuple[Any, ...]:
    """A lookup table for weighted choices: ``table[int(random() * len(table))]``."""
    return tuple(value for value, weight in weighted for _ in range(weight))


_HEALTH = _table(("Active", 85), ("Inactive", 10), ("ImpairedCommunication", 3), ("NoSensorData", 2))
_DEVICE_VALUE = _table(("Normal", 85), ("Low", 5), ("High", 10))
_RISK = _table(("None", 30), ("Informational", 10), ("Low", 30), ("Medium", 20), ("High", 10))
_EXPOSURE = _table(("None", 5), ("Low", 35), ("Medium", 45), ("High", 15))
_AV = _table(("Updated", 85), ("NotUpdated", 10), ("Unknown", 5))
_TAG_COUNT = _table((0, 50), (1, 35), (2, 15))
_MANAGED = ("Intune", "MicrosoftDefender", "Unknown")
_PLATFORMS = _table(*((p, p[3]) for p in PLATFORMS))
_LOOPBACK = {
    "ipAddress": "127.0.0.1",
    "macAddress": None,
    "type": "SoftwareLoopback",
    "operationalStatus": "Up",
}


class _Gen:
    def __init__(self, tenant: str, seed: int, now: float) -> None:
        self.tenant = tenant
        self.rng = random.Random(f"mdekit:{seed}")
        self.now = float(int(now) // 3600 * 3600)
        self.stamp = Stamper(self.rng)

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(n * 4):0{n}x}"

    def guid(self) -> str:
        h = self.hexid(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def pick(self, table: tuple[Any, ...]) -> Any:
        """A weighted choice from a :func:`_table` (or a uniform one from any tuple)."""
        return table[int(self.rng.random() * len(table))]

    def between(self, lo: float, hi: float) -> float:
        return lo + self.rng.random() * (hi - lo)

    def external_ip(self) -> str:
        r = self.rng.random
        return f"20.{40 + int(r() * 160)}.{int(r() * 256)}.{1 + int(r() * 254)}"

    # -- machines --
    def machine(self, i: int) -> dict[str, Any]:
        r, pick, stamp = self.rng.random, self.pick, self.stamp
        platform, version, build, _, agent = pick(_PLATFORMS)
        prefix = {"Linux": "lnx", "macOS": "mac"}.get(platform, "srv" if "Server" in platform else "desktop")
        health = pick(_HEALTH)
        last_seen = self.now - (self.between(8 * DAY, 40 * DAY) if health == "Inactive" else r() * 2 * DAY)
        ip = f"10.{1 + int(r() * 59)}.{int(r() * 256)}.{2 + int(r() * 253)}"
        rbac_id, rbac_name = pick(RBAC_GROUPS)
        windows = platform.startswith("Windows")
        return {
            "id": self.hexid(40),
            "mergedIntoMachineId": None,
            "isPotentialDuplication": False,
            "isExcluded": False,
            "exclusionReason": None,
            "computerDnsName": f"{prefix}-{self.hexid(6)}{i:04d}.{_DOMAIN}.local",
            "firstSeen": stamp(last_seen - self.between(30 * DAY, 700 * DAY)),
            "lastSeen": stamp(last_seen),
            "osPlatform": platform,
            "osVersion": None,
            "osProcessor": "x64",
            "version": version,
            "lastIpAddress": ip,
            "lastExternalIpAddress": self.external_ip(),
            "agentVersion": f"{agent}.{10000 + int(r() * 20000)}.{1000 + int(r() * 8999)}",
            "osBuild": build or None,
            "healthStatus": health,
            "deviceValue": pick(_DEVICE_VALUE),
            "rbacGroupId": rbac_id,
            "rbacGroupName": rbac_name,
            "riskScore": pick(_RISK),
            "exposureLevel": pick(_EXPOSURE),
            "isAadJoined": windows and r() < 0.7,
            "aadDeviceId": self.guid() if windows else None,
            "machineTags": sorted(self.rng.sample(TAGS, pick(_TAG_COUNT))),
            "defenderAvStatus": pick(_AV),
            "onboardingStatus": "Onboarded",
            "osArchitecture": "64-bit",
            "managedBy": pick(_MANAGED),
            "managedByStatus": "Unknown",
            "ipAddresses": [
                {
                    "ipAddress": ip,
                    "macAddress": self.hexid(12).upper(),
                    "type": "Ethernet",
                    "operationalStatus": "Up",
                },
                dict(_LOOPBACK),
            ],
            "vmMetadata": None,
        }

    # -- users, files --
    def users(self, count: int) -> list[dict[str, Any]]:
        out = []
        for i in range(count):
            name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]}{i // len(FIRST_NAMES) or ''}"
            out.append(
                {
                    "id": f"{_DOMAIN}\\{name}",
                    "accountName": name,
                    "accountDomain": _DOMAIN,
                    "accountSid": f"S-1-5-21-{self.rng.randrange(10**9)}-{self.rng.randrange(10**9)}"
                    f"-{1000 + i}",
                    "firstSeen": fmt(self.now - self.rng.uniform(60 * DAY, 400 * DAY)),
                    "lastSeen": fmt(self.now - self.rng.uniform(0, 3 * DAY)),
                    "mostPrevalentMachineId": None,
                    "leastPrevalentMachineId": None,
                    "logonTypes": "Interactive" if self.rng.random() < 0.8 else "Network",
                    "logOnMachinesCount": 0,
                    "isDomainAdmin": self.rng.random() < 0.05,
                    "isOnlyNetworkUser": False,
                }
            )
        return out

    def file(self, name: str, threat: str | None) -> dict[str, Any]:
        digest = hashlib.sha256(f"{self.rng.random()}{name}".encode()).hexdigest()
        return {
            "sha1": hashlib.sha1(digest.encode()).hexdigest(),
            "sha256": digest,
            "md5": hashlib.md5(digest.encode()).hexdigest(),
            "globalPrevalence": self.rng.randrange(1, 50000),
            "globalFirstObserved": fmt(self.now - self.rng.uniform(100 * DAY, 900 * DAY)),
            "globalLastObserved": fmt(self.now - self.rng.uniform(0, 5 * DAY)),
            "size": self.rng.randrange(2048, 9_000_000),
            "fileType": None,
            "isPeFile": name.endswith((".exe", ".dll")),
            "filePublisher": None,
            "fileProductName": None,
            "signer": None,
            "issuer": None,
            "signerHash": None,
            "isValidCertificate": False if threat else None,
            "determinationType": "Malware"
            if threat and not threat.startswith("PUA")
            else ("Pua" if threat else "Unknown"),
            "determinationValue": threat or "",
            "fileName": name,  # kept for evidence; dropped from API answers by the routes
        }


def _assign_users(
    gen: _Gen, machines: list[dict[str, Any]], users: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    counts: dict[str, list[str]] = {}
    for m in machines:
        for u in gen.rng.sample(users, min(len(users), gen.rng.choice((1, 1, 2, 3)))):
            links.append((m["id"], u["id"]))
            counts.setdefault(u["id"], []).append(m["id"])
    for u in users:
        seen = counts.get(u["id"], [])
        u["logOnMachinesCount"] = len(seen)
        u["mostPrevalentMachineId"] = seen[0] if seen else None
        u["leastPrevalentMachineId"] = seen[-1] if seen else None
    return links


def seed_tenant(
    store: Any, tenant: str, *, machines: int, alerts: int, seed: int = 0, tvm: bool = True
) -> SeedResult:
    """Replace *tenant*'s Defender data with a generated tenant (deterministic per *seed*).

    One transaction: readers never see a half-seeded tenant, and a crash mid-seed leaves the
    previous data (WAL rollback). Alerts are generated and inserted in chunks to bound memory.
    With *tvm*, machines also get installed software, antivirus health and remediation
    activities (:mod:`mdekit.emulator.defender.tvm.seed`, its own random stream).
    """
    from mdekit.emulator.defender.seed.alerts import AlertFactory, ChunkPacker
    from mdekit.emulator.defender.tvm.seed import plan_tvm

    gen = _Gen(tenant, seed, store.clock.time())
    mach = [gen.machine(i) for i in range(machines)]
    software = plan_tvm(mach, seed, gen.now, gen.stamp) if tvm else None
    users = gen.users(max(5, min(2000, machines // 2 + 5)))
    links = _assign_users(gen, mach, users) if mach else []
    files = [gen.file(n, t) for n, t in FILE_NAMES for _ in range(1 + alerts // 2000)]
    factory = AlertFactory(gen, mach, users, links, files, list(DOMAINS), ALERT_TEMPLATES)
    made = 0
    try:
        with write_once(store.db, alerts), store.db.tx() as c, bulk_load(c, tenant, alerts):
            store.delete_tenant(tenant)
            factory.key = store.alerts.keys.assign(c, tenant)  # no rows hold its id now
            store.machines.insert_many(c, tenant, mach)
            if software is not None:
                store.tvm.insert_seed(c, tenant, software)
            store.lookups.insert_users(c, tenant, users, links)
            store.lookups.insert_files(
                c, tenant, [{k: v for k, v in f.items() if k != "fileName"} for f in files]
            )
            # a large seed's alerts are made in a child process while this one inserts (pipeline.py)
            # (compressed here: the generator process is the busier one)
            chunks = generated(factory, alerts if mach else 0, tenant, store.alerts.next_n(c))
            for part in map(ChunkPacker(alerts), chunks):
                for dictionary in part.dictionaries:
                    save_dictionary(c, tenant, dictionary)
                store.alerts.insert_rows(c, part.alerts, part.evidence)
                store.lookups.insert_investigation_rows(c, part.investigations)
                store.incidents.insert_rows(c, part.incidents)
                made += len(part.alerts)
            store.alerts.add_links(c, tenant, factory.links)
    except BaseException:
        store.alerts.keys.reload()  # the rollback took a key given by this seed back
        raise
    store.db.checkpoint()  # the commit's auto-checkpoint copied the WAL; now give its space back
    counts = {"machines": len(mach), "alerts": made, "incidents": factory.incidents}
    counts["softwareInstalls"] = len(software.installs) if software else 0
    counts.update(investigations=factory.investigations, users=len(users), files=len(files))
    return SeedResult({**counts, "ips": len(factory.ips), "domains": len(DOMAINS)})
