# ruff: noqa: E501 - one hunt per entry reads best unwrapped
"""Hunting queries written for this project, in the style of the public collections.

They exercise the techniques hunters look for (encoded PowerShell, LOLBins, rare parent/child
pairs, C2 beaconing, credential dumping, ransomware preparation, persistence, lateral movement)
and the KQL those collections use most. ``technique=True`` hunts must return rows on a seeded
tenant: the generated data contains each technique. The public collections themselves are run by
``benchmarks/hunting_corpus.py`` (they are not stored in this repository).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HUNTS", "Hunt"]


@dataclass(frozen=True)
class Hunt:
    """One query; ``technique``: it hunts for an attack technique and must find it."""

    name: str
    query: str
    technique: bool = False


HUNTS: list[Hunt] = [
    Hunt(
        "encoded_powershell",
        """DeviceProcessEvents
| where Timestamp > ago(30d)
| where FileName in~ ("powershell.exe", "pwsh.exe")
| where ProcessCommandLine matches regex @"(?i)\\s-e(nc|ncodedcommand)?\\s+[A-Za-z0-9+/=]{16,}"
| extend Blob = extract(@"(?i)\\s-e(nc|ncodedcommand)?\\s+([A-Za-z0-9+/=]{16,})", 2, ProcessCommandLine)
| extend Script = replace_string(base64_decode_tostring(Blob), "\\0", "")
| project Timestamp, DeviceName, AccountName, InitiatingProcessFileName, InitiatingProcessParentFileName, Script""",
        technique=True,
    ),
    Hunt(
        "office_spawns_shell",
        """let officeApps = dynamic(["winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe"]);
let shells = dynamic(["cmd.exe", "powershell.exe", "wscript.exe", "mshta.exe", "rundll32.exe"]);
DeviceProcessEvents
| where InitiatingProcessFileName in~ (officeApps) and FileName in~ (shells)
| summarize Launches = count(), Lines = make_set(ProcessCommandLine, 5) by DeviceName, InitiatingProcessFileName, FileName""",
        technique=True,
    ),
    Hunt(
        "rare_parent_child",
        """let pairs = DeviceProcessEvents
    | where Timestamp > ago(30d)
    | summarize Devices = dcount(DeviceId), Seen = count() by InitiatingProcessFileName, FileName;
pairs
| where Devices <= 2
| join kind=inner (DeviceProcessEvents | project DeviceName, InitiatingProcessFileName, FileName, ProcessCommandLine, Timestamp) on InitiatingProcessFileName, FileName
| project Timestamp, DeviceName, Parent = InitiatingProcessFileName, Child = FileName, ProcessCommandLine, Devices
| top 50 by Timestamp desc""",
        technique=True,
    ),
    Hunt(
        "certutil_download",
        """DeviceProcessEvents
| where FileName =~ "certutil.exe"
| where ProcessCommandLine has_any ("urlcache", "verifyctl", "decode") and ProcessCommandLine has "http"
| project Timestamp, DeviceName, AccountName, ProcessCommandLine, InitiatingProcessCommandLine""",
        technique=True,
    ),
    Hunt(
        "lolbin_network",
        """let lolbins = dynamic(["certutil.exe", "regsvr32.exe", "mshta.exe", "rundll32.exe", "bitsadmin.exe"]);
DeviceNetworkEvents
| where InitiatingProcessFileName in~ (lolbins)
| where RemoteIPType == "Public" or ipv4_is_private(RemoteIP) == false
| summarize Connections = count(), Targets = make_set(RemoteIP, 10) by DeviceName, InitiatingProcessFileName""",
        technique=True,
    ),
    Hunt(
        "regsvr32_squiblydoo",
        """DeviceProcessEvents
| where FileName =~ "regsvr32.exe" and ProcessCommandLine has_all ("/i:", "scrobj.dll")
| project Timestamp, DeviceName, ProcessCommandLine""",
        technique=True,
    ),
    Hunt(
        "beaconing_regular_intervals",
        """DeviceNetworkEvents
| where RemoteIPType == "Public" and ActionType == "ConnectionSuccess"
| project DeviceName, RemoteIP, InitiatingProcessFileName, Timestamp
| sort by DeviceName asc, RemoteIP asc, Timestamp asc
| serialize
| extend Gap = iff(prev(DeviceName) == DeviceName and prev(RemoteIP) == RemoteIP, datetime_diff("second", Timestamp, prev(Timestamp)), long(null))
| where isnotnull(Gap)
| summarize Connections = count(), AvgGap = avg(Gap), GapDeviation = stdev(Gap) by DeviceName, RemoteIP, InitiatingProcessFileName
| where Connections >= 20 and GapDeviation < 10""",
        technique=True,
    ),
    Hunt(
        "rundll32_external",
        """DeviceNetworkEvents
| where InitiatingProcessFileName =~ "rundll32.exe"
| summarize Connections = count(), FirstSeen = min(Timestamp), LastSeen = max(Timestamp) by DeviceName, RemoteIP, RemoteUrl
| extend Duration = LastSeen - FirstSeen
| where Connections > 10""",
        technique=True,
    ),
    Hunt(
        "lsass_access",
        """DeviceEvents
| where ActionType == "OpenProcessApiCall" and FileName =~ "lsass.exe"
| extend Access = tostring(parse_json(AdditionalFields).DesiredAccess)
| project Timestamp, DeviceName, InitiatingProcessFileName, InitiatingProcessCommandLine, Access""",
        technique=True,
    ),
    Hunt(
        "comsvcs_minidump",
        """DeviceProcessEvents
| where FileName =~ "rundll32.exe" and ProcessCommandLine has_all ("comsvcs", "MiniDump")
| project Timestamp, DeviceName, AccountName, ProcessCommandLine""",
        technique=True,
    ),
    Hunt(
        "dump_files_created",
        """DeviceFileEvents
| where ActionType == "FileCreated" and FileName endswith ".dmp" and FileName contains "lsass"
| project Timestamp, DeviceName, FolderPath, InitiatingProcessFileName""",
        technique=True,
    ),
    Hunt(
        "credential_libraries_loaded",
        """DeviceImageLoadEvents
| where FileName in~ ("samlib.dll", "vaultcli.dll", "comsvcs.dll")
| where InitiatingProcessFileName !in~ ("lsass.exe", "svchost.exe")
| summarize Libraries = make_set(FileName) by DeviceName, InitiatingProcessFileName, InitiatingProcessSHA1""",
        technique=True,
    ),
    Hunt(
        "shadow_copy_deletion",
        """DeviceProcessEvents
| where (FileName =~ "vssadmin.exe" and ProcessCommandLine has_all ("delete", "shadows"))
    or (FileName =~ "wbadmin.exe" and ProcessCommandLine has "delete")
    or (FileName =~ "bcdedit.exe" and ProcessCommandLine has "recoveryenabled")
| summarize Commands = make_set(ProcessCommandLine) by DeviceName, bin(Timestamp, 1h)""",
        technique=True,
    ),
    Hunt(
        "mass_file_renames",
        """DeviceFileEvents
| where ActionType == "FileRenamed"
| extend Extension = tostring(parse_path(FolderPath).Extension)
| summarize Renamed = count() by DeviceName, Extension, bin(Timestamp, 5m)
| where Renamed > 10""",
        technique=True,
    ),
    Hunt(
        "run_key_persistence",
        """DeviceRegistryEvents
| where ActionType == "RegistryValueSet"
| where RegistryKey has @"\\CurrentVersion\\Run"
| where RegistryValueData has_any ("AppData", "Public", "Temp")
| project Timestamp, DeviceName, RegistryValueName, RegistryValueData, InitiatingProcessFileName""",
        technique=True,
    ),
    Hunt(
        "scheduled_task_created",
        """DeviceProcessEvents
| where FileName =~ "schtasks.exe" and ProcessCommandLine has "/create"
| parse ProcessCommandLine with * "/tn " TaskName " /tr " Action " " *
| project Timestamp, DeviceName, TaskName, Action""",
        technique=True,
    ),
    Hunt(
        "psexec_service",
        """DeviceProcessEvents
| where InitiatingProcessFileName =~ "psexesvc.exe" or FileName =~ "psexesvc.exe"
| project Timestamp, DeviceName, FileName, ProcessCommandLine, InitiatingProcessFileName""",
        technique=True,
    ),
    Hunt(
        "network_logon_then_service",
        """DeviceLogonEvents
| where LogonType == "Network" and ActionType == "LogonSuccess" and isnotempty(RemoteDeviceName)
| project LogonTime = Timestamp, DeviceId, DeviceName, RemoteDeviceName, AccountName
| join kind=inner (DeviceFileEvents | where FileName =~ "PSEXESVC.exe" | project FileTime = Timestamp, DeviceId) on DeviceId
| where FileTime between (LogonTime .. 5m)""",
        technique=True,
    ),
    Hunt(
        "discovery_burst",
        """let discovery = dynamic(["whoami.exe", "net.exe", "nltest.exe", "ipconfig.exe", "systeminfo.exe", "tasklist.exe"]);
DeviceProcessEvents
| where FileName in~ (discovery)
| summarize Tools = dcount(FileName), Commands = make_set(ProcessCommandLine, 10) by DeviceName, AccountName, bin(Timestamp, 10m)
| where Tools >= 3""",
        technique=True,
    ),
    Hunt(
        "domain_admin_enumeration",
        """DeviceProcessEvents
| where FileName in~ ("net.exe", "net1.exe") and ProcessCommandLine has "group" and ProcessCommandLine has_any ("domain admins", "Domain Computers")
| project Timestamp, DeviceName, AccountName, ProcessCommandLine""",
        technique=True,
    ),
    Hunt(
        "brute_force_then_success",
        """DeviceLogonEvents
| where isnotempty(RemoteIP)
| summarize Failures = countif(ActionType == "LogonFailed"), Successes = countif(ActionType == "LogonSuccess") by DeviceName, RemoteIP
| where Failures >= 2 and Successes >= 1""",
        technique=True,
    ),
    Hunt(
        "local_admin_added",
        """DeviceProcessEvents
| where FileName =~ "net.exe" and ProcessCommandLine has_all ("localgroup", "administrators", "/add")
| project Timestamp, DeviceName, AccountName, ProcessCommandLine""",
        technique=True,
    ),
    Hunt(
        "rclone_exfiltration",
        """DeviceProcessEvents
| where ProcessCommandLine has_all ("copy", "remote:") or ProcessVersionInfoProductName =~ "rclone"
| join kind=leftouter (DeviceNetworkEvents | summarize Connections = count() by DeviceId, InitiatingProcessId) on DeviceId, $left.ProcessId == $right.InitiatingProcessId
| project Timestamp, DeviceName, ProcessCommandLine, Connections""",
        technique=True,
    ),
    Hunt(
        "archive_before_exfil",
        """DeviceProcessEvents
| where FileName =~ "7z.exe" and ProcessCommandLine has " a " and ProcessCommandLine contains "-p"
| project Timestamp, DeviceName, ProcessCommandLine""",
        technique=True,
    ),
    Hunt(
        "download_then_execute",
        """let downloads = DeviceFileEvents
    | where isnotempty(FileOriginUrl)
    | project DeviceId, SHA1, FileName, FileOriginUrl, DownloadTime = Timestamp;
DeviceProcessEvents
| join kind=inner downloads on DeviceId, SHA1
| where Timestamp between (DownloadTime .. 1h)
| project DeviceName, FileName, FileOriginUrl, DownloadTime, RunTime = Timestamp""",
        technique=True,
    ),
    Hunt(
        "antivirus_detections",
        """DeviceEvents
| where ActionType == "AntivirusDetection"
| extend Threat = tostring(parse_json(AdditionalFields).ThreatName)
| summarize Detections = count(), Files = make_set(FileName) by Threat, DeviceName""",
        technique=True,
    ),
    Hunt(
        "process_injection_calls",
        """DeviceEvents
| where ActionType in ("CreateRemoteThreadApiCall", "QueueUserApcRemoteApiCall", "NtAllocateVirtualMemoryRemoteApiCall")
| summarize Calls = make_set(ActionType) by DeviceName, InitiatingProcessFileName, InitiatingProcessSHA1, TargetProcess = FileName
| where array_length(Calls) >= 2""",
        technique=True,
    ),
    Hunt(
        "named_pipe_c2",
        """DeviceEvents
| where ActionType == "NamedPipeEvent"
| extend Pipe = tostring(parse_json(AdditionalFields).PipeName)
| where Pipe has_any ("postex", "msagent", "status_")
| project Timestamp, DeviceName, InitiatingProcessFileName, Pipe""",
        technique=True,
    ),
    Hunt(
        "alerts_with_machine_timeline",
        """let alerts = AlertInfo
    | where Severity == "High"
    | join kind=inner (AlertEvidence | where EntityType == "Machine" | project AlertId, DeviceId) on AlertId
    | project AlertId, Title, DeviceId, AlertTime = Timestamp;
alerts
| join kind=inner (DeviceProcessEvents | project DeviceId, ProcessTime = Timestamp, FileName, ProcessCommandLine) on DeviceId
| where ProcessTime between ((AlertTime - 15m) .. (AlertTime + 5m))
| summarize Processes = make_set(FileName, 20) by AlertId, Title""",
        technique=True,
    ),
    Hunt(
        "evidence_hash_everywhere",
        """let hashes = AlertEvidence | where EntityType == "File" and isnotempty(SHA1) | distinct SHA1;
union withsource = Source DeviceProcessEvents, DeviceFileEvents, DeviceImageLoadEvents
| where SHA1 in (hashes)
| summarize Events = count() by Source""",
        technique=True,
    ),
    Hunt(
        "file_profile_rare_files",
        """DeviceProcessEvents
| where Timestamp > ago(7d)
| summarize by SHA1, FileName
| invoke FileProfile(SHA1, 100)
| where GlobalPrevalence < 100
| project FileName, SHA1, GlobalPrevalence, SignatureState, ThreatName""",
        technique=True,
    ),
    Hunt(
        "unsigned_binaries",
        """DeviceProcessEvents
| summarize arg_max(Timestamp, FileName, FolderPath) by DeviceId, SHA1
| join kind=leftanti (DeviceFileCertificateInfo | where IsSigned | distinct DeviceId, SHA1) on DeviceId, SHA1
| summarize Devices = dcount(DeviceId) by FileName""",
        technique=True,
    ),
    Hunt(
        "geo_of_external_connections",
        """DeviceNetworkEvents
| where RemoteIPType == "Public"
| summarize Connections = count() by RemoteIP
| extend Country = tostring(geo_info_from_ip_address(RemoteIP).country)
| summarize Connections = sum(Connections), Addresses = dcount(RemoteIP) by Country
| sort by Connections desc""",
    ),
    Hunt(
        "latest_device_state",
        """DeviceInfo
| summarize arg_max(Timestamp, *) by DeviceId
| extend Users = parse_json(LoggedOnUsers)
| mv-expand User = Users
| project DeviceName, OSPlatform, OSBuild, UserName = tostring(User.UserName), ExposureLevel""",
    ),
    Hunt(
        "adapter_addresses",
        """DeviceNetworkInfo
| where NetworkAdapterStatus == "Up"
| mv-expand Address = todynamic(IPAddresses)
| extend IP = tostring(Address.IPAddress), Prefix = toint(Address.SubnetPrefix)
| where ipv4_is_in_range(IP, "10.0.0.0/8")
| summarize Devices = dcount(DeviceId) by Prefix""",
    ),
    Hunt(
        "usb_devices",
        """DeviceEvents
| where ActionType == "PnpDeviceConnected"
| extend Info = parse_json(AdditionalFields)
| project Timestamp, DeviceName, ClassName = tostring(Info.ClassName), Description = tostring(Info.DeviceDescription)
| summarize Devices = dcount(DeviceName) by Description""",
    ),
    Hunt(
        "powershell_commands",
        """DeviceEvents
| where ActionType == "PowerShellCommand"
| extend Command = tostring(todynamic(AdditionalFields).Command)
| summarize Runs = count(), Devices = dcount(DeviceId) by Command
| sort by Runs asc""",
    ),
    Hunt(
        "command_line_arguments",
        """DeviceProcessEvents
| where FileName =~ "nltest.exe"
| extend Arguments = parse_command_line(ProcessCommandLine, "windows")
| extend FirstArgument = tostring(Arguments[1])
| summarize Runs = count() by FirstArgument""",
    ),
    Hunt(
        "top_processes_per_device",
        """DeviceProcessEvents
| top-nested 3 of DeviceName by Events = count(), top-nested 2 of FileName by Runs = count()""",
    ),
    Hunt(
        "daily_connections_series",
        """DeviceNetworkEvents
| make-series Connections = count() default = 0 on Timestamp from ago(7d) to now() step 1d by ActionType""",
    ),
    Hunt(
        "suspicious_command_function",
        """let IsSuspicious = (commandLine: string) { commandLine has_any ("-enc", "downloadstring", "urlcache", "scrobj", "MiniDump") };
DeviceProcessEvents
| where IsSuspicious(ProcessCommandLine)
| summarize Devices = dcount(DeviceId) by FileName""",
        technique=True,
    ),
    Hunt(
        "known_bad_names_table",
        """let KnownTools = datatable(Tool: string, Purpose: string) [
    "mimikatz.exe", "credential theft",
    "procdump64.exe", "memory dumps",
    "psexec.exe", "remote execution",
    "rclone.exe", "exfiltration"
];
DeviceProcessEvents
| lookup kind=inner (KnownTools) on $left.FileName == $right.Tool
| summarize Devices = dcount(DeviceId) by FileName, Purpose""",
        technique=True,
    ),
    Hunt(
        "timeline_render",
        """DeviceProcessEvents
| where FileName =~ "powershell.exe"
| summarize Starts = count() by bin(Timestamp, 1d)
| render timechart""",
    ),
    Hunt(
        "schema_of_device_events",
        """DeviceEvents | getschema | project ColumnName, ColumnType""",
    ),
    Hunt(
        "search_for_indicator",
        """let indicator = toscalar(AlertEvidence | where EntityType == "Ip" | take 1 | project RemoteIP);
search in (DeviceNetworkEvents, DeviceLogonEvents) indicator
| summarize Hits = count() by $table""",
        technique=True,
    ),
    Hunt(
        "find_hash",
        """let sha = toscalar(AlertEvidence | where EntityType == "File" | take 1 | project SHA1);
find in (DeviceProcessEvents, DeviceFileEvents, DeviceImageLoadEvents) where SHA1 == sha project DeviceName, FileName, Timestamp""",
        technique=True,
    ),
    Hunt(
        "materialized_devices",
        """let servers = materialize(DeviceInfo | where DeviceType == "Server" | distinct DeviceId);
DeviceLogonEvents
| where DeviceId in (servers)
| summarize Logons = count() by LogonType, ActionType""",
    ),
    Hunt(
        "percentile_file_sizes",
        """DeviceFileEvents
| summarize percentiles(FileSize, 50, 95), Largest = max(FileSize), Kinds = dcountif(FileName, ActionType == "FileCreated") by ActionType""",
    ),
    Hunt(
        "reorder_and_keep",
        """DeviceProcessEvents
| take 20
| project-keep Timestamp, DeviceName, FileName, Initiating*
| project-reorder FileName, DeviceName""",
    ),
    Hunt(
        "external_feed_without_data",
        """let feed = externaldata(Indicator: string) [@"https://example.org/ioc.txt"] with (format="txt");
DeviceNetworkEvents
| where RemoteIP in (feed)""",
    ),
    Hunt(
        "print_and_range",
        """range Day from 1 to 7 step 1
| extend Start = startofday(ago(Day * 1d)), Weekday = dayofweek(ago(Day * 1d)) / 1d, Part = datetime_part("day", ago(Day * 1d))""",
    ),
    Hunt(
        "linux_miners",
        """DeviceNetworkEvents
| where RemotePort == 3333
| summarize Connections = count() by DeviceName, InitiatingProcessFileName, RemoteIP""",
    ),
    Hunt(
        "tvm_exploitable_critical_cves",
        """DeviceTvmSoftwareVulnerabilities
| where VulnerabilitySeverityLevel in ("Critical", "High")
| join kind=inner (DeviceTvmSoftwareVulnerabilitiesKB | where IsExploitAvailable == true | project CveId, CvssScore, PublishedDate) on CveId
| summarize Devices = dcount(DeviceId), Names = make_set(DeviceName, 5) by CveId, SoftwareName, CvssScore
| order by Devices desc""",
        technique=True,
    ),
    Hunt(
        "tvm_vulnerable_software_with_activity",
        """let vulnerable = DeviceTvmSoftwareVulnerabilities | distinct DeviceId, SoftwareName;
DeviceTvmSoftwareInventory
| join kind=inner vulnerable on DeviceId, SoftwareName
| join kind=inner (DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | project DeviceId, MachineGroup, ExposureLevel) on DeviceId
| summarize Products = dcount(SoftwareName), Versions = make_set(SoftwareVersion, 10) by DeviceName, ExposureLevel""",
        technique=True,
    ),
    Hunt(
        "tvm_inventory_by_vendor",
        """DeviceTvmSoftwareInventory
| summarize Installs = count(), Devices = dcount(DeviceId), EndOfSupport = countif(isnotempty(EndOfSupportStatus)) by SoftwareVendor
| top 10 by Installs""",
        technique=True,
    ),
    Hunt(
        "tvm_antivirus_misconfigured",
        """DeviceTvmSecureConfigurationAssessment
| where ConfigurationSubcategory == 'Antivirus' and IsApplicable == 1 and IsCompliant == 0
| join kind=leftouter (DeviceTvmSecureConfigurationAssessmentKB | project ConfigurationId, ConfigurationName, Tags) on ConfigurationId
| summarize Devices = dcount(DeviceId) by ConfigurationId, ConfigurationName""",
        technique=True,
    ),
]
