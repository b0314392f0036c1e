"""Deterministic TVM data for seeded machines: installed software, antivirus health, remediation.

Uses its own random stream (``mdekit:tvm:<seed>``), so switching TVM on or off never changes the
machines, alerts or users a seed produces. Each machine gets its operating system at a monthly
cumulative-update build plus the applications of its platform (:mod:`.products`); its
``exposureLevel`` is then derived from the CVEs those versions carry (:mod:`.assess`).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mdekit.emulator.defender.tvm.assess import cves_for, exposure_level, version_weight
from mdekit.emulator.defender.tvm.products import OS_PRODUCT, PLATFORM_SOFTWARE, PRODUCTS, product

__all__ = ["TvmSeed", "plan_tvm"]

DAY = 86_400
_UNGROUPED = "UnassignedGroup"


@dataclass
class TvmSeed:
    """What a TVM seed writes: install rows, AV health rows, remediation activities."""

    installs: list[tuple[str, str, str, str, str]] = field(
        default_factory=list
    )  # machine, vendor, name, ver, seen
    device_av: list[dict[str, Any]] = field(default_factory=list)
    remediation: list[dict[str, Any]] = field(default_factory=list)


def _table(weighted: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    return tuple(v for v, w in weighted for _ in range(w))


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp[:19] + "+00:00").timestamp()


class _Planner:
    def __init__(self, seed: int, now: float, stamp: Any) -> None:
        self.rng = random.Random(f"mdekit:tvm:{seed}")
        self.now = now
        self.stamp = stamp
        self.tables = {(p.vendor, p.name): _table(p.versions) for p in PRODUCTS}
        self.refreshed = self._z(now)

    def machine(self, m: dict[str, Any], out: TvmSeed) -> tuple[str, float]:
        """Plan one machine's software; returns its OS version and exposure."""
        r = self.rng.random
        platform = m["osPlatform"]
        first, last = _epoch(m["firstSeen"]), _epoch(m["lastSeen"])
        os_vendor, os_name = OS_PRODUCT[platform]
        picks = [(os_vendor, os_name, 1.0), *PLATFORM_SOFTWARE[platform]]
        exposure = 0.0
        os_version = ""
        for vendor, name, share in picks:
            if share < 1.0 and r() >= share:
                continue
            table = self.tables[(vendor, name)]
            version = table[int(r() * len(table))]
            if name == os_name:
                os_version = version
            seen = first + r() * max(0.0, last - first) * 0.5
            out.installs.append((m["id"], vendor, name, version, self.stamp.at(int(seen), r())))
            exposure += version_weight(vendor, name, version)
        return os_version, exposure

    def _z(self, ts: float) -> str:
        """``2022-08-02T19:40:45Z`` (the stamper caches each day's prefix)."""
        return self.stamp.at(int(ts), 0.0)[:19] + "Z"

    def _zms(self, ts: float) -> str:
        """``2022-08-02T18:40:15.882Z``."""
        return self.stamp.at(int(ts), 0.0)[:19] + f".{int(ts * 1000) % 1000:03d}Z"

    def device_av(self, m: dict[str, Any], os_version: str) -> dict[str, Any]:
        """The machine's antivirus health row (``/api/deviceavinfo``)."""
        r = self.rng.random
        _z, _zms = self._z, self._zms
        platform = m["osPlatform"]
        kind = "windows" if platform.startswith("Windows") else ("mac" if platform == "macOS" else "linux")
        status = m.get("defenderAvStatus") or "Unknown"
        current = status == "Updated"
        signature = {"Updated": "True", "NotUpdated": "False"}.get(status, "Unknown")
        engine = "True" if current or r() < 0.5 else ("False" if status == "NotUpdated" else "Unknown")
        mode = "0"
        if platform.startswith("WindowsServer") and r() < 0.15:
            mode = "1"  # passive next to a third-party antivirus
        elif r() < 0.02:
            mode = "2"
        last = _epoch(m["lastSeen"])
        # As in the documentation's example: engine, signature and publish times are one moment.
        sig_time = last - (r() * DAY if current else 9 * DAY + r() * 20 * DAY)
        quick = "Completed" if r() < 0.8 else ("Failed" if r() < 0.15 else "")
        full = "Completed" if r() < 0.28 else ""
        windows = kind == "windows"
        updated = _z(sig_time)
        return {
            "id": m["id"],
            "machineId": m["id"],
            "computerDnsName": m["computerDnsName"],
            "osKind": kind,
            "osPlatform": platform,
            "osVersion": os_version,
            "avMode": mode,
            "avSignatureVersion": "1.421.1046.0" if current else f"1.419.{300 + int(r() * 500)}.0",
            "avEngineVersion": "1.1.24090.11" if engine == "True" else "1.1.24080.9",
            "avPlatformVersion": ("4.18.24090.11" if windows else "101.24092.0002")
            if engine == "True"
            else ("4.18.24080.9" if windows else "101.24082.0004"),
            "lastSeenTime": m["lastSeen"][:19] + "Z",
            "quickScanResult": quick,
            "quickScanError": "0x80508023" if quick == "Failed" else "",
            "quickScanTime": _zms(last - r() * 2 * DAY) if quick else None,
            "fullScanResult": full,
            "fullScanError": "",
            "fullScanTime": _zms(last - r() * 20 * DAY) if full else None,
            "dataRefreshTimestamp": self.refreshed,
            "avEngineUpdateTime": updated,
            "avSignatureUpdateTime": updated,
            "avPlatformUpdateTime": _z(sig_time - 30 * DAY),
            "avIsSignatureUpToDate": signature,
            "avIsEngineUpToDate": engine,
            "avIsPlatformUpToDate": engine,
            "avSignaturePublishTime": updated,
            "rbacGroupName": m.get("rbacGroupName") or _UNGROUPED,
            "rbacGroupId": m.get("rbacGroupId") or 0,
        }

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def remediation(self, machines: list[dict[str, Any]], out: TvmSeed) -> None:
        """A few remediation activities for the most exposed applications, plus one configuration."""
        groups = {m["id"]: m.get("rbacGroupName") or _UNGROUPED for m in machines}
        exposed: dict[tuple[str, str], set[str]] = {}
        for machine_id, vendor, name, version, _ in out.installs:
            if cves_for(vendor, name, version):
                exposed.setdefault((vendor, name), set()).add(machine_id)
        ranked = sorted(exposed.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:4]
        requester = self.guid()
        for i, ((vendor, name), ids) in enumerate(ranked):
            found = product(vendor, name)
            component = found.component if found else name
            created = self.now - (40 - 9 * i) * DAY - self.rng.random() * DAY
            status = "Completed" if i == 3 else "Active"
            out.remediation.append(
                self.task(
                    created=created,
                    status=status,
                    requester=requester,
                    title=f"Update {component}",
                    description=f"Update {component} to the latest version to fix its known vulnerabilities.",
                    component=component,
                    target=len(ids),
                    groups=sorted({groups[m] for m in ids}),
                    priority="High" if i == 0 else "Medium",
                    software=(vendor, name),
                )
            )
        out.remediation.append(
            self.task(
                created=self.now - 12 * DAY,
                status="Active",
                requester=requester,
                title="Turn on real-time protection",
                description="Turn on Microsoft Defender Antivirus real-time protection on every device.",
                component="Microsoft Defender Antivirus",
                target=sum(1 for av in out.device_av if av["osKind"] == "windows" and av["avMode"] != "0"),
                groups=sorted(set(groups.values())),
                priority="Low",
                scid="scid-2012",
            )
        )

    def task(self, **t: Any) -> dict[str, Any]:
        created = t["created"]
        software = t.get("software")
        done = t["status"] == "Completed"
        return {
            "id": self.guid(),
            "title": t["title"],
            "createdOn": self.stamp(created),
            "requesterId": t["requester"],
            "requesterEmail": "secops@contoso.com",
            "status": t["status"],
            "statusLastModifiedOn": self.stamp(created + (5 * DAY if done else 1.0)),
            "description": t["description"],
            "relatedComponent": t["component"],
            "targetDevices": t["target"],
            "rbacGroupNames": t["groups"],
            "fixedDevices": 0,  # recomputed from the machines' current state when read
            "requesterNotes": "",
            "dueOn": time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(created + 30 * DAY)),
            "category": "Software" if software else "SecurityConfiguration",  # UNVERIFIED second value
            "productivityImpactRemediationType": "AllExposedAssets" if software else None,
            "priority": t["priority"],
            "completionMethod": "Automatic" if done else None,
            "completerId": None,
            "completerEmail": None,
            "scid": t.get("scid"),
            "type": "Update" if software else "ConfigurationChange",
            "productId": f"{software[0]}-_-{software[1]}" if software else None,
            "vendorId": software[0] if software else None,
            "nameId": software[1] if software else None,
            "recommendedVersion": None,
            "recommendedVendor": None,
            "recommendedProgram": None,
        }


def plan_tvm(machines: list[dict[str, Any]], seed: int, now: float, stamp: Any) -> TvmSeed:
    """Plan the TVM data of *machines*; sets each machine's ``exposureLevel`` from its CVEs."""
    planner = _Planner(seed, now, stamp)
    out = TvmSeed()
    for m in machines:
        os_version, exposure = planner.machine(m, out)
        m["exposureLevel"] = exposure_level(exposure)
        out.device_av.append(planner.device_av(m, os_version))
    if machines:
        planner.remediation(machines, out)
    # Machine-id order: the (tenant, machine, product) index then grows at its end, not at random.
    out.installs.sort()
    return out
