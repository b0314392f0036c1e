"""Realistic value pools for the seed generator (names, platforms, alert templates, techniques)."""

from __future__ import annotations

__all__ = ["ALERT_TEMPLATES", "DOMAINS", "FILE_NAMES", "FIRST_NAMES", "PLATFORMS", "RBAC_GROUPS", "TAGS"]

# (osPlatform, version, osBuild, weight, agentVersion prefix)
PLATFORMS = (
    ("Windows10", "22H2", 19045, 36, "10.8760"),
    ("Windows11", "23H2", 22631, 30, "10.8760"),
    ("WindowsServer2019", "1809", 17763, 8, "10.8760"),
    ("WindowsServer2022", "21H2", 20348, 10, "10.8760"),
    ("Linux", "Ubuntu 22.04", 0, 9, "101.24042"),
    ("macOS", "14.4", 0, 7, "101.24042"),
)
RBAC_GROUPS = ((0, None), (1, "Workstations"), (2, "Servers"), (3, "Finance"), (4, "Engineering"))
TAGS = ("VIP", "Finance", "Engineering", "Remote", "Kiosk", "PCI", "Datacenter", "Pilot", "HR", "Legal")
FIRST_NAMES = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yasmin",
)
FILE_NAMES = (
    ("mimikatz.exe", "HackTool:Win32/Mimikatz"),
    ("invoice.docm", "TrojanDownloader:O97M/Donoff"),
    ("svch0st.exe", "Trojan:Win32/Wacatac"),
    ("payload.ps1", "Trojan:PowerShell/Powersploit"),
    ("update.js", "TrojanDownloader:JS/Nemucod"),
    ("rclone.exe", None),
    ("psexec.exe", None),
    ("cobalt.dll", "Backdoor:Win64/CobaltStrike"),
    ("miner.elf", "Trojan:Linux/CoinMiner"),
    ("keygen.exe", "PUA:Win32/Keygen"),
)
DOMAINS = (
    "login-microsoftonline.co",
    "cdn-update-check.net",
    "pastebin.com",
    "bit.ly",
    "contoso-hr.info",
    "evil-c2.example",
    "storage-sync.xyz",
    "github.io",
    "free-vpn.top",
    "invoice-portal.biz",
)
# (category, title, MITRE techniques, detectionSource, severity, threatFamily)
ALERT_TEMPLATES = (
    ("Execution", "Suspicious PowerShell command line", ("T1059.001",), "WindowsDefenderAtp", "Medium", None),
    (
        "CredentialAccess",
        "Mimikatz credential theft tool",
        ("T1003", "T1003.001"),
        "WindowsDefenderAv",
        "High",
        "Mimikatz",
    ),
    (
        "Malware",
        "'Wacatac' malware was detected",
        ("T1204.002",),
        "WindowsDefenderAv",
        "Informational",
        "Wacatac",
    ),
    (
        "LateralMovement",
        "Suspicious service launched via PsExec",
        ("T1021.002", "T1569.002"),
        "WindowsDefenderAtp",
        "Medium",
        None,
    ),
    (
        "CommandAndControl",
        "Connection to a known command and control server",
        ("T1071.001",),
        "WindowsDefenderAtp",
        "High",
        "CobaltStrike",
    ),
    (
        "DefenseEvasion",
        "Suspicious process injection observed",
        ("T1055",),
        "WindowsDefenderAtp",
        "High",
        None,
    ),
    ("Persistence", "Anomaly detected in ASEP registry", ("T1547.001",), "WindowsDefenderAtp", "Low", None),
    (
        "Exfiltration",
        "Possible data exfiltration with rclone",
        ("T1567.002",),
        "WindowsDefenderAtp",
        "Medium",
        None,
    ),
    (
        "InitialAccess",
        "Malicious macro in Office document",
        ("T1566.001",),
        "WindowsDefenderAv",
        "Medium",
        "Donoff",
    ),
    (
        "Ransomware",
        "Ransomware behavior detected in the file system",
        ("T1486",),
        "WindowsDefenderAtp",
        "High",
        None,
    ),
    (
        "Discovery",
        "Suspicious network discovery activity",
        ("T1046", "T1018"),
        "WindowsDefenderAtp",
        "Low",
        None,
    ),
    (
        "SuspiciousActivity",
        "Unusual sign-in activity on the device",
        ("T1078",),
        "AutomatedInvestigation",
        "Informational",
        None,
    ),
)
