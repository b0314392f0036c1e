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

from mdekit.emulator.defender.enums import EVIDENCE_KEYS
from mdekit.emulator.defender.seed.pools import (
    ALERT_TEMPLATES,
    DOMAINS,
    FILE_NAMES,
    FIRST_NAMES,
    PLATFORMS,
    RBAC_GROUPS,
    TAGS,
)

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


class _Gen:
    def __init__(self, tenant: str, seed: int, now: float) -> None:
        self.tenant = tenant
        self.rng = random.Random(f"mdekit:{seed}")
        self.now = float(int(now) // 3600 * 3600)

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(n * 4):0{n}x}"

    def guid(self) -> str:
        h = self.hexid(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def external_ip(self) -> str:
        rng = self.rng
        return f"20.{rng.randrange(40, 200)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    # -- machines --
    def machine(self, i: int) -> dict[str, Any]:
        rng = self.rng
        platform, version, build, _, agent = rng.choices(PLATFORMS, weights=[p[3] for p in PLATFORMS])[0]
        prefix = {"Linux": "lnx", "macOS": "mac"}.get(platform, "srv" if "Server" in platform else "desktop")
        name = f"{prefix}-{self.hexid(6)}{i:04d}.{_DOMAIN}.local"
        health = rng.choices(("Active", "Inactive", "ImpairedCommunication", "NoSensorData"), (85, 10, 3, 2))[
            0
        ]
        last_seen = self.now - (
            rng.uniform(8 * DAY, 40 * DAY) if health == "Inactive" else rng.uniform(0, 2 * DAY)
        )
        ip = f"10.{rng.randrange(1, 60)}.{rng.randrange(0, 256)}.{rng.randrange(2, 255)}"
        mac = self.hexid(12).upper()
        rbac_id, rbac_name = RBAC_GROUPS[rng.randrange(len(RBAC_GROUPS))]
        windows = platform.startswith("Windows")
        return {
            "id": self.hexid(40),
            "mergedIntoMachineId": None,
            "isPotentialDuplication": False,
            "isExcluded": False,
            "exclusionReason": None,
            "computerDnsName": name,
            "firstSeen": fmt(last_seen - rng.uniform(30 * DAY, 700 * DAY)),
            "lastSeen": fmt(last_seen),
            "osPlatform": platform,
            "osVersion": None,
            "osProcessor": "x64",
            "version": version,
            "lastIpAddress": ip,
            "lastExternalIpAddress": self.external_ip(),
            "agentVersion": f"{agent}.{rng.randrange(10000, 30000)}.{rng.randrange(1000, 9999)}",
            "osBuild": build or None,
            "healthStatus": health,
            "deviceValue": rng.choices(("Normal", "Low", "High"), (85, 5, 10))[0],
            "rbacGroupId": rbac_id,
            "rbacGroupName": rbac_name,
            "riskScore": rng.choices(
                ("None", "Informational", "Low", "Medium", "High"), (30, 10, 30, 20, 10)
            )[0],
            "exposureLevel": rng.choices(("None", "Low", "Medium", "High"), (5, 35, 45, 15))[0],
            "isAadJoined": windows and rng.random() < 0.7,
            "aadDeviceId": self.guid() if windows else None,
            "machineTags": sorted(rng.sample(TAGS, rng.choices((0, 1, 2), (50, 35, 15))[0])),
            "defenderAvStatus": rng.choices(("Updated", "NotUpdated", "Unknown"), (85, 10, 5))[0],
            "onboardingStatus": "Onboarded",
            "osArchitecture": "64-bit",
            "managedBy": rng.choice(("Intune", "MicrosoftDefender", "Unknown")),
            "managedByStatus": "Unknown",
            "ipAddresses": [
                {"ipAddress": ip, "macAddress": mac, "type": "Ethernet", "operationalStatus": "Up"},
                {
                    "ipAddress": "127.0.0.1",
                    "macAddress": None,
                    "type": "SoftwareLoopback",
                    "operationalStatus": "Up",
                },
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


def seed_tenant(store: Any, tenant: str, *, machines: int, alerts: int, seed: int = 0) -> SeedResult:
    """Replace *tenant*'s Defender data with a generated tenant (deterministic per *seed*)."""
    from mdekit.emulator.defender.seed.alerts import AlertFactory

    gen = _Gen(tenant, seed, store.clock.time())
    mach = [gen.machine(i) for i in range(machines)]
    users = gen.users(max(5, min(2000, machines // 2 + 5)))
    links = _assign_users(gen, mach, users) if mach else []
    files = [gen.file(n, t) for n, t in FILE_NAMES for _ in range(1 + alerts // 2000)]
    factory = AlertFactory(gen, mach, users, links, files, list(DOMAINS), ALERT_TEMPLATES, EVIDENCE_KEYS)
    made = factory.make(alerts) if mach else []
    investigations = factory.investigations
    with store.db.tx() as c:
        store.delete_tenant(tenant)
        store.machines.insert_many(c, tenant, mach)
        store.lookups.insert_users(c, tenant, users, links)
        store.lookups.insert_files(
            c, tenant, [{k: v for k, v in f.items() if k != "fileName"} for f in files]
        )
        store.alerts.insert_many(c, tenant, made)
        store.lookups.insert_investigations(c, tenant, investigations)
    return SeedResult(
        {
            "machines": len(mach),
            "alerts": len(made),
            "incidents": factory.incidents,
            "investigations": len(investigations),
            "users": len(users),
            "files": len(files),
            "ips": len(factory.ips),
            "domains": len(DOMAINS),
        }
    )
