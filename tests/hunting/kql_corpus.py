# ruff: noqa: E501, E741 - a table of queries: one query per line reads best; I/AI/AE name tables
"""Real-world-style hunting queries (patterns from public hunting collections, rewritten for the
fixed dataset) with expected results computed by plain Python over ``dataset`` rows."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kql_dataset import NOW, iso, js, visible


@dataclass
class Case:
    """One corpus query: expected rows (dicts in column order) and whether order matters."""

    name: str
    query: str
    expected: Callable[[], list[dict[str, Any]]]
    ordered: bool = False


def V(table: str) -> list[dict[str, Any]]:
    return visible(table)


def pick(rows: list[dict[str, Any]], *cols: str) -> list[dict[str, Any]]:
    return [{c: (iso(r[c]) if c == "Timestamp" else r[c]) for c in cols} for r in rows]


def within(rows: list[dict[str, Any]], **kw: float) -> list[dict[str, Any]]:
    return [r for r in rows if r["Timestamp"] > NOW - timedelta(**kw)]


def count_by(rows: list[dict[str, Any]], key: str, name: str = "count_") -> list[dict[str, Any]]:
    c = Counter(r[key] for r in rows)
    return [{key: k, name: v} for k, v in c.items()]


def has(text: str, term: str) -> bool:
    return re.search(r"(?<![0-9A-Za-z])" + re.escape(term) + r"(?![0-9A-Za-z])", text, re.I) is not None


P, N, F, L, R = (
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceFileEvents",
    "DeviceLogonEvents",
    "DeviceRegistryEvents",
)
I, AI, AE = "DeviceInfo", "AlertInfo", "AlertEvidence"


def _hour(dt: Any) -> str:
    return iso(dt.replace(minute=0, second=0, microsecond=0))


def _day(dt: Any) -> str:
    return iso(dt.replace(hour=0, minute=0, second=0, microsecond=0))


def _latest_per_device() -> list[dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for r in V(P):
        if r["DeviceId"] not in best or r["Timestamp"] > best[r["DeviceId"]]["Timestamp"]:
            best[r["DeviceId"]] = r
    return [
        {"DeviceId": k, "Timestamp": iso(v["Timestamp"]), "FileName": v["FileName"]} for k, v in best.items()
    ]


def _brute_force() -> list[dict[str, Any]]:
    fails = [r for r in V(L) if r["ActionType"] == "LogonFailed" and r["Timestamp"] > NOW - timedelta(days=1)]
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in fails:
        grouped[(r["DeviceName"], r["RemoteIP"])].append(r["AccountName"])
    return [
        {"DeviceName": d, "RemoteIP": ip, "Failures": len(a), "Accounts": sorted(set(a))}
        for (d, ip), a in grouped.items()
        if len(a) >= 3
    ]


def _alerts_with_evidence() -> list[dict[str, Any]]:
    out = []
    for a in V(AI):
        for e in V(AE):
            if e["AlertId"] == a["AlertId"] and e["EntityType"] == "Machine":
                out.append(
                    {
                        "AlertId": a["AlertId"],
                        "Title": a["Title"],
                        "Severity": a["Severity"],
                        "DeviceName": e["DeviceName"],
                    }
                )
    return out


def _downloads_then_network() -> list[dict[str, Any]]:
    out = []
    for f in V(F):
        if f["FileOriginUrl"]:
            for n in V(N):
                if n["DeviceId"] == f["DeviceId"]:
                    out.append(
                        {"DeviceName": f["DeviceName"], "FileName": f["FileName"], "RemoteIP": n["RemoteIP"]}
                    )
    return out


def _leftouter() -> list[dict[str, Any]]:
    out = []
    for d in V(I):
        hits = [a for a in V(AE) if a["DeviceId"] == d["DeviceId"] and a["EntityType"] == "Machine"]
        for h in hits or [None]:
            out.append({"DeviceName": d["DeviceName"], "AlertId": h["AlertId"] if h else ""})
    return out


def _proc_dcount() -> list[dict[str, Any]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for r in V(P):
        groups[r["DeviceName"]].add(r["FileName"].lower())
    return [{"DeviceName": k, "Programs": len(v)} for k, v in groups.items()]


def _union_counts() -> list[dict[str, Any]]:
    return [{"Source": t, "Events": len(V(t))} for t in (P, N, F)]


CASES: list[Case] = [
    # --- where: equality, case, terms ----------------------------------------------------
    Case(
        "eq_case_sensitive",
        f'{P} | where FileName == "powershell.exe" | project DeviceName, FileName',
        lambda: pick([r for r in V(P) if r["FileName"] == "powershell.exe"], "DeviceName", "FileName"),
    ),
    Case(
        "eq_case_insensitive",
        f'{P} | where FileName =~ "powershell.exe" | project DeviceName, FileName',
        lambda: pick(
            [r for r in V(P) if r["FileName"].lower() == "powershell.exe"], "DeviceName", "FileName"
        ),
    ),
    Case(
        "not_eq_ci",
        f'{P} | where FileName !~ "powershell.exe" | count',
        lambda: [{"Count": len([r for r in V(P) if r["FileName"].lower() != "powershell.exe"])}],
    ),
    Case(
        "neq",
        f'{P} | where AccountName != "alice" | count',
        lambda: [{"Count": len([r for r in V(P) if r["AccountName"] != "alice"])}],
    ),
    Case(
        "has_term",
        f'{P} | where ProcessCommandLine has "urlcache" | project FileName',
        lambda: pick([r for r in V(P) if has(r["ProcessCommandLine"], "urlcache")], "FileName"),
    ),
    Case(
        "has_is_whole_term",
        f'{P} | where ProcessCommandLine has "url" | count',
        lambda: [{"Count": len([r for r in V(P) if has(r["ProcessCommandLine"], "url")])}],
    ),
    Case(
        "has_case_insensitive",
        f'{P} | where ProcessCommandLine has "ENCODEDCOMMAND" | project ProcessId',
        lambda: pick([r for r in V(P) if has(r["ProcessCommandLine"], "encodedcommand")], "ProcessId"),
    ),
    Case(
        "not_has",
        f'{P} | where ProcessCommandLine !has "exe" | project FileName',
        lambda: pick([r for r in V(P) if not has(r["ProcessCommandLine"], "exe")], "FileName"),
    ),
    Case(
        "contains_ci",
        f'{P} | where ProcessCommandLine contains "LOGONPASS" | project FileName',
        lambda: pick([r for r in V(P) if "logonpass" in r["ProcessCommandLine"].lower()], "FileName"),
    ),
    Case(
        "contains_cs",
        f'{P} | where ProcessCommandLine contains_cs "EncodedCommand" | count',
        lambda: [{"Count": len([r for r in V(P) if "EncodedCommand" in r["ProcessCommandLine"]])}],
    ),
    Case(
        "not_contains",
        f'{P} | where ProcessCommandLine !contains "exe" | project FileName',
        lambda: pick([r for r in V(P) if "exe" not in r["ProcessCommandLine"].lower()], "FileName"),
    ),
    Case(
        "startswith",
        f'{F} | where FolderPath startswith @"c:\\users" | project FileName',
        lambda: pick([r for r in V(F) if r["FolderPath"].lower().startswith("c:\\users")], "FileName"),
    ),
    Case(
        "endswith_double_ext",
        f'{F} | where FileName endswith ".pdf.exe" | project FileName, FileOriginUrl',
        lambda: pick(
            [r for r in V(F) if r["FileName"].lower().endswith(".pdf.exe")], "FileName", "FileOriginUrl"
        ),
    ),
    Case(
        "in_list",
        f'{P} | where FileName in ("net.exe", "whoami.exe") | project FileName, ProcessId',
        lambda: pick(
            [r for r in V(P) if r["FileName"] in ("net.exe", "whoami.exe")], "FileName", "ProcessId"
        ),
    ),
    Case(
        "in_ci",
        f'{P} | where FileName in~ ("POWERSHELL.EXE", "CMD.exe") | project ProcessId',
        lambda: pick(
            [r for r in V(P) if r["FileName"].lower() in ("powershell.exe", "cmd.exe")], "ProcessId"
        ),
    ),
    Case(
        "not_in",
        f'{P} | where FileName !in ("net.exe", "whoami.exe", "cmd.exe") | count',
        lambda: [
            {"Count": len([r for r in V(P) if r["FileName"] not in ("net.exe", "whoami.exe", "cmd.exe")])}
        ],
    ),
    Case(
        "not_in_ci",
        f'{P} | where FileName !in~ ("POWERSHELL.EXE") | count',
        lambda: [{"Count": len([r for r in V(P) if r["FileName"].lower() != "powershell.exe"])}],
    ),
    Case(
        "let_list_in",
        'let lolbins = dynamic(["certutil.exe", "rundll32.exe", "mshta.exe"]);\n'
        f"{P} | where FileName in~ (lolbins) | project DeviceName, FileName",
        lambda: pick(
            [r for r in V(P) if r["FileName"] in ("certutil.exe", "rundll32.exe")], "DeviceName", "FileName"
        ),
    ),
    Case(
        "between_ports",
        f"{N} | where RemotePort between (400 .. 3000) | project RemotePort",
        lambda: pick([r for r in V(N) if 400 <= r["RemotePort"] <= 3000], "RemotePort"),
    ),
    Case(
        "not_between",
        f"{N} | where RemotePort !between (400 .. 3000) | project RemotePort",
        lambda: pick([r for r in V(N) if not 400 <= r["RemotePort"] <= 3000], "RemotePort"),
    ),
    Case(
        "between_datetimes",
        f"{P} | where Timestamp between (ago(7d) .. ago(1d)) | project ProcessId",
        lambda: pick(
            [r for r in V(P) if NOW - timedelta(days=7) <= r["Timestamp"] <= NOW - timedelta(days=1)],
            "ProcessId",
        ),
    ),
    Case(
        "matches_regex",
        f'{P} | where ProcessCommandLine matches regex @"(?i)-enc(odedcommand)?\\s+[A-Za-z0-9+/=]{{8,}}" '
        "| project ProcessId",
        lambda: pick(
            [
                r
                for r in V(P)
                if re.search(r"(?i)-enc(odedcommand)?\s+[A-Za-z0-9+/=]{8,}", r["ProcessCommandLine"])
            ],
            "ProcessId",
        ),
    ),
    Case(
        "isempty",
        f"{N} | where isempty(RemoteUrl) | project RemoteIP",
        lambda: pick([r for r in V(N) if not r["RemoteUrl"]], "RemoteIP"),
    ),
    Case(
        "isnotempty",
        f"{F} | where isnotempty(FileOriginUrl) | project FileName",
        lambda: pick([r for r in V(F) if r["FileOriginUrl"]], "FileName"),
    ),
    Case(
        "and_or_not",
        f'{P} | where (AccountName == "bob" or AccountName == "carol") and not(FileName endswith ".dll")'
        " and FileSize > 100000 | project FileName",
        lambda: pick(
            [r for r in V(P) if r["AccountName"] in ("bob", "carol") and r["FileSize"] > 100000], "FileName"
        ),
    ),
    Case(
        "ago_window",
        f"{P} | where Timestamp > ago(1d) | project ProcessId",
        lambda: pick(within(V(P), days=1), "ProcessId"),
    ),
    Case("thirty_day_window", f'{P} | where FileName == "oldproc.exe" | count', lambda: [{"Count": 0}]),
    Case(
        "datetime_literal",
        f"{P} | where Timestamp >= datetime(2024-04-30 12:00:00) | count",
        lambda: [{"Count": len([r for r in V(P) if r["Timestamp"] >= NOW - timedelta(days=1)])}],
    ),
    Case(
        "now_arith",
        f"{L} | where Timestamp > now() - 2h | project AccountName, ActionType",
        lambda: pick(within(V(L), hours=2), "AccountName", "ActionType"),
    ),
    Case(
        "bool_column",
        f"{I} | where IsAzureADJoined == true | project DeviceName",
        lambda: pick([r for r in V(I) if r["IsAzureADJoined"]], "DeviceName"),
    ),
    Case(
        "bool_local_admin",
        f"{L} | where IsLocalAdmin | project AccountName",
        lambda: pick([r for r in V(L) if r["IsLocalAdmin"]], "AccountName"),
    ),
    Case(
        "numeric_compare",
        f"{F} | where FileSize >= 5000000000 | project FileName, FileSize",
        lambda: pick([r for r in V(F) if r["FileSize"] >= 5_000_000_000], "FileName", "FileSize"),
    ),
    # --- project / extend / rename ---------------------------------------------------------
    Case(
        "project_rename",
        f'{P} | where FileName == "net.exe" | project-rename Cmd = ProcessCommandLine | project Cmd',
        lambda: [{"Cmd": r["ProcessCommandLine"]} for r in V(P) if r["FileName"] == "net.exe"],
    ),
    Case(
        "project_away_wildcard",
        f'{AI} | project-away Timestamp, Attack*, Service* | where AlertId == "da2"',
        lambda: [
            {k: v for k, v in r.items() if k not in ("Timestamp", "AttackTechniques", "ServiceSource")}
            for r in V(AI)
            if r["AlertId"] == "da2"
        ],
    ),
    Case(
        "extend_tolower_toupper",
        f'{P} | where AccountName == "carol" | extend lower = tolower(FileName), '
        "upper = toupper(AccountName) | project lower, upper",
        lambda: [
            {"lower": r["FileName"].lower(), "upper": r["AccountName"].upper()}
            for r in V(P)
            if r["AccountName"] == "carol"
        ],
    ),
    Case(
        "strcat",
        f'{L} | where ActionType == "LogonSuccess" | project Who = strcat(AccountDomain, "\\\\", AccountName)',
        lambda: [
            {"Who": f"{r['AccountDomain']}\\{r['AccountName']}"}
            for r in V(L)
            if r["ActionType"] == "LogonSuccess"
        ],
    ),
    Case(
        "split_index",
        f'{F} | where isnotempty(FileOriginUrl) | extend Host = tostring(split(FileOriginUrl, "/")[2]) '
        "| project Host",
        lambda: [{"Host": r["FileOriginUrl"].split("/")[2]} for r in V(F) if r["FileOriginUrl"]],
    ),
    Case(
        "extract_regex",
        f'{P} | where ProcessCommandLine has "urlcache" | '
        'project Url = extract(@"(https?://[^\\s]+)", 1, ProcessCommandLine)',
        lambda: [
            {"Url": re.search(r"(https?://[^\s]+)", r["ProcessCommandLine"]).group(1)}  # type: ignore[union-attr]
            for r in V(P)
            if has(r["ProcessCommandLine"], "urlcache")
        ],
    ),
    Case(
        "extract_no_match",
        f'{P} | where FileName == "notepad.exe" | project X = extract("(zzz)", 1, FileName)',
        lambda: [{"X": ""}],
    ),
    Case(
        "toint_tostring",
        f'{R} | where RegistryValueName == "DisableAntiSpyware" | '
        'project V = toint(RegistryValueData) + 1, Bad = isnull(toint("12abc")), S = tostring(strlen(DeviceName))',
        lambda: [{"V": 2, "Bad": True, "S": str(len("ws-carol.contoso.local"))}],
    ),
    Case(
        "parse_json_member",
        f"{P} | where isnotempty(AdditionalFields) | "
        "extend Key = toint(parse_json(AdditionalFields).ProcessStartKey), Tag = tostring(AdditionalFields.Tags[1]) "
        "| project ProcessId, Key, Tag",
        lambda: [
            {
                "ProcessId": r["ProcessId"],
                "Key": js(r["AdditionalFields"])["ProcessStartKey"],
                "Tag": js(r["AdditionalFields"])["Tags"][1],
            }
            for r in V(P)
            if r["AdditionalFields"]
        ],
    ),
    Case(
        "dynamic_column_member",
        f"{I} | where array_length(LoggedOnUsers) > 0 | "
        "project DeviceName, User = tostring(LoggedOnUsers[0].UserName)",
        lambda: [
            {"DeviceName": r["DeviceName"], "User": js(r["LoggedOnUsers"])[0]["UserName"]}
            for r in V(I)
            if js(r["LoggedOnUsers"])
        ],
    ),
    Case(
        "format_datetime",
        f'{AI} | where AlertId == "da3" | project D = format_datetime(Timestamp, "yyyy-MM-dd HH:mm")',
        lambda: [{"D": (NOW - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")}],
    ),
    Case(
        "startofday",
        f'{AI} | where AlertId == "da4" | project Day = startofday(Timestamp)',
        lambda: [{"Day": _day(NOW - timedelta(days=10))}],
    ),
    Case(
        "datetime_diff_hours",
        f'{AI} | where AlertId == "da3" | project H = datetime_diff("hour", now(), Timestamp)',
        lambda: [{"H": 24}],
    ),
    Case(
        "datetime_diff_day",
        f'{L} | summarize F = min(Timestamp), T = max(Timestamp) | project Days = datetime_diff("day", T, F)',
        lambda: [
            {
                "Days": (
                    max(r["Timestamp"] for r in V(L)).date() - min(r["Timestamp"] for r in V(L)).date()
                ).days
            }
        ],
    ),
    Case(
        "timestamp_type_roundtrip",
        f'{AI} | where AlertId == "da1" | project Timestamp',
        lambda: [{"Timestamp": iso(NOW - timedelta(minutes=25))}],
    ),
    # --- summarize ------------------------------------------------------------------------------
    Case("count_by", f"{P} | summarize count() by DeviceName", lambda: count_by(V(P), "DeviceName")),
    Case(
        "count_named",
        f"{N} | summarize Connections = count() by RemoteIP | where Connections > 1",
        lambda: [r for r in count_by(V(N), "RemoteIP", "Connections") if r["Connections"] > 1],
    ),
    Case("dcount", f"{P} | summarize Programs = dcount(tolower(FileName)) by DeviceName", _proc_dcount),
    Case(
        "sum_avg_min_max",
        f"{F} | summarize sum(FileSize), avg(FileSize), min(FileSize), max(FileSize)",
        lambda: [
            {
                "sum_FileSize": sum(r["FileSize"] for r in V(F)),
                "avg_FileSize": sum(r["FileSize"] for r in V(F)) / len(V(F)),
                "min_FileSize": min(r["FileSize"] for r in V(F)),
                "max_FileSize": max(r["FileSize"] for r in V(F)),
            }
        ],
    ),
    Case(
        "make_set",
        f'{P} | where AccountName == "svc_sql" | summarize Cmds = make_set(FileName) by AccountName',
        lambda: [
            {
                "AccountName": "svc_sql",
                "Cmds": sorted({r["FileName"] for r in V(P) if r["AccountName"] == "svc_sql"}),
            }
        ],
    ),
    Case("arg_max", f"{P} | summarize arg_max(Timestamp, FileName) by DeviceId", _latest_per_device),
    Case(
        "arg_max_star",
        f"{I} | summarize arg_max(Timestamp, *) by DeviceId | project DeviceName, OSPlatform",
        lambda: pick(V(I), "DeviceName", "OSPlatform"),
    ),
    Case(
        "bin_hour",
        f"{N} | where Timestamp > ago(1d) | summarize count() by bin(Timestamp, 1h)",
        lambda: [
            {"Timestamp": k, "count_": v}
            for k, v in Counter(_hour(r["Timestamp"]) for r in within(V(N), days=1)).items()
        ],
    ),
    Case(
        "bin_day",
        f"{P} | summarize Events = count() by Day = bin(Timestamp, 1d), DeviceName",
        lambda: [
            {"Day": d, "DeviceName": n, "Events": c}
            for (d, n), c in Counter((_day(r["Timestamp"]), r["DeviceName"]) for r in V(P)).items()
        ],
    ),
    Case(
        "countif",
        f'{L} | summarize Failed = countif(ActionType == "LogonFailed"), Ok = countif(ActionType == "LogonSuccess")',
        lambda: [
            {
                "Failed": sum(r["ActionType"] == "LogonFailed" for r in V(L)),
                "Ok": sum(r["ActionType"] == "LogonSuccess" for r in V(L)),
            }
        ],
    ),
    Case(
        "brute_force",
        f'{L} | where ActionType == "LogonFailed" and Timestamp > ago(1d)\n'
        "| summarize Failures = count(), Accounts = make_set(AccountName) by DeviceName, RemoteIP\n"
        "| where Failures >= 3",
        _brute_force,
    ),
    Case(
        "summarize_no_rows",
        f'{P} | where FileName == "nothing.exe" | summarize count()',
        lambda: [{"count_": 0}],
    ),
    # --- sort / take / top / distinct / count -----------------------------------------------
    Case(
        "order_desc_default",
        f"{P} | order by Timestamp | take 3 | project ProcessId",
        lambda: pick(sorted(V(P), key=lambda r: r["Timestamp"], reverse=True)[:3], "ProcessId"),
        ordered=True,
    ),
    Case(
        "sort_asc",
        f"{N} | sort by RemotePort asc, Timestamp desc | project RemotePort",
        lambda: pick(sorted(V(N), key=lambda r: r["RemotePort"]), "RemotePort"),
        ordered=True,
    ),
    Case(
        "top_by",
        f"{F} | top 2 by FileSize | project FileName",
        lambda: pick(sorted(V(F), key=lambda r: -r["FileSize"])[:2], "FileName"),
        ordered=True,
    ),
    Case(
        "top_asc",
        f"{F} | top 1 by FileSize asc | project FileName",
        lambda: [{"FileName": "old.tmp"}],
        ordered=True,
    ),
    Case("limit", f"{P} | limit 4 | count", lambda: [{"Count": 4}]),
    Case(
        "distinct_cols",
        f"{P} | distinct DeviceName, AccountName",
        lambda: [
            dict(t)
            for t in {(("DeviceName", r["DeviceName"]), ("AccountName", r["AccountName"])) for r in V(P)}
        ],
    ),
    Case(
        "distinct_star",
        f"{N} | project RemoteIP | distinct *",
        lambda: [{"RemoteIP": ip} for ip in {r["RemoteIP"] for r in V(N)}],
    ),
    Case("count_operator", f"{AE} | count", lambda: [{"Count": len(V(AE))}]),
    Case(
        "summarize_then_sort",
        f"{P} | summarize n = count() by AccountName | order by n desc, AccountName asc",
        lambda: sorted(count_by(V(P), "AccountName", "n"), key=lambda r: (-r["n"], r["AccountName"])),
        ordered=True,
    ),
    # --- joins and unions ---------------------------------------------------------------------
    Case(
        "join_inner_alerts",
        f'{AI} | join kind=inner ({AE} | where EntityType == "Machine") on AlertId\n'
        "| project AlertId, Title, Severity, DeviceName",
        _alerts_with_evidence,
    ),
    Case(
        "join_leftouter",
        f'{I} | join kind=leftouter ({AE} | where EntityType == "Machine" | project DeviceId, AlertId) '
        "on DeviceId | project DeviceName, AlertId",
        _leftouter,
    ),
    Case(
        "join_leftanti",
        f'{I} | join kind=leftanti ({AE} | where EntityType == "Machine") on DeviceId | project DeviceName',
        lambda: pick(
            [
                d
                for d in V(I)
                if not any(a["DeviceId"] == d["DeviceId"] and a["EntityType"] == "Machine" for a in V(AE))
            ],
            "DeviceName",
        ),
    ),
    Case(
        "join_leftsemi",
        f'{I} | join kind=leftsemi ({N} | where RemoteIP == "203.0.113.10") on DeviceId | project DeviceName',
        lambda: pick(
            [
                d
                for d in V(I)
                if any(n["DeviceId"] == d["DeviceId"] and n["RemoteIP"] == "203.0.113.10" for n in V(N))
            ],
            "DeviceName",
        ),
    ),
    Case(
        "join_left_right_keys",
        f"{F} | where isnotempty(FileOriginUrl) | join kind=inner ({N}) "
        "on $left.DeviceId == $right.DeviceId | project DeviceName, FileName, RemoteIP",
        _downloads_then_network,
    ),
    Case(
        "join_suffix_columns",
        f'{AE} | where EntityType == "File" | join kind=inner ({P} | project DeviceId, FileName) '
        "on DeviceId | project FileName, FileName1",
        lambda: [
            {"FileName": e["FileName"], "FileName1": p["FileName"]}
            for e in V(AE)
            if e["EntityType"] == "File"
            for p in V(P)
            if p["DeviceId"] == e["DeviceId"]
        ],
    ),
    Case(
        "let_tabular_join",
        f'let suspicious = {P} | where FileName in ("certutil.exe", "mimikatz.exe") | distinct DeviceId;\n'
        f"{I} | join kind=inner (suspicious) on DeviceId | project DeviceName",
        lambda: pick(
            [
                d
                for d in V(I)
                if d["DeviceId"]
                in {p["DeviceId"] for p in V(P) if p["FileName"] in ("certutil.exe", "mimikatz.exe")}
            ],
            "DeviceName",
        ),
    ),
    Case(
        "in_subquery",
        f'{L} | where DeviceId in (({AE} | where Severity == "High" | project DeviceId)) '
        "| summarize count() by DeviceName",
        lambda: count_by(
            [r for r in V(L) if r["DeviceId"] in {e["DeviceId"] for e in V(AE) if e["Severity"] == "High"}],
            "DeviceName",
        ),
    ),
    Case(
        "union_withsource",
        f"union withsource=Source {P}, {N}, {F} | summarize Events = count() by Source",
        _union_counts,
    ),
    Case(
        "union_operator",
        f'{P} | where FileName == "net.exe" | project DeviceName, Activity = ProcessCommandLine\n'
        f'| union ({R} | where RegistryKey has "Run" | project DeviceName, Activity = RegistryValueData)',
        lambda: (
            [
                {"DeviceName": r["DeviceName"], "Activity": r["ProcessCommandLine"]}
                for r in V(P)
                if r["FileName"] == "net.exe"
            ]
            + [
                {"DeviceName": r["DeviceName"], "Activity": r["RegistryValueData"]}
                for r in V(R)
                if has(r["RegistryKey"], "Run")
            ]
        ),
    ),
    Case(
        "let_scalar_and_timespan",
        f'let lookback = 3d;\nlet acct = "bob";\n{P} | where Timestamp > ago(lookback) '
        "and AccountName =~ acct | project FileName",
        lambda: pick([r for r in within(V(P), days=3) if r["AccountName"] == "bob"], "FileName"),
    ),
    Case(
        "comments_and_newlines",
        f'// recent registry persistence\n{R}\n| where ActionType == "RegistryValueSet" // sets only\n'
        '| where RegistryKey has @"CurrentVersion\\Run" or RegistryValueName == "DisableAntiSpyware"\n| project DeviceName',
        lambda: pick([r for r in V(R) if r["ActionType"] == "RegistryValueSet"], "DeviceName"),
    ),
    Case(
        "alert_evidence_count_by_entity",
        f"{AE} | summarize Alerts = dcount(AlertId) by EntityType",
        lambda: [
            {"EntityType": t, "Alerts": len({e["AlertId"] for e in V(AE) if e["EntityType"] == t})}
            for t in {e["EntityType"] for e in V(AE)}
        ],
    ),
    Case(
        "iff_case",
        f'{F} | project FileName, Size = iff(FileSize > 1000000, "big", "small"), '
        'Kind = case(ActionType == "FileCreated", "new", ActionType == "FileDeleted", "gone", "other")',
        lambda: [
            {
                "FileName": r["FileName"],
                "Size": "big" if r["FileSize"] > 1_000_000 else "small",
                "Kind": {"FileCreated": "new", "FileDeleted": "gone"}.get(r["ActionType"], "other"),
            }
            for r in V(F)
        ],
    ),
]
