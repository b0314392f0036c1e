# ruff: noqa: E501 - a table of queries: one query per line reads best; I/AI/AE name tables
"""Corpus cases for the operators and functions added with issue 17, expected results computed by
plain Python over the fixed dataset (never by running the engine)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

from kql_corpus import AE, AI, Case, F, I, L, N, P, V, has, pick
from kql_dataset import D1, NOW, TABLES, iso, js

_STRING_COLS = {t: [c for c, k in TABLES[t] if k == "string"] for t in TABLES}


def _search(term: str, *tables: str) -> list[dict[str, Any]]:
    counts = Counter(t for t in tables for r in V(t) if any(has(str(r[c]), term) for c in _STRING_COLS[t]))
    return [{"$table": t, "count_": n} for t, n in counts.items()]


def _row_numbers() -> list[dict[str, Any]]:
    rows = sorted((r for r in V(P) if r["DeviceId"] == D1), key=lambda r: r["Timestamp"])
    return [
        {"rn": i + 1, "FileName": r["FileName"], "prevName": rows[i - 1]["FileName"] if i else ""}
        for i, r in enumerate(rows)
    ]


def _series() -> list[dict[str, Any]]:
    start = NOW - timedelta(days=3)
    bins = [start + timedelta(days=k) for k in range(3)]
    counts = [sum(1 for r in V(N) if b <= r["Timestamp"] < b + timedelta(days=1)) for b in bins]
    return [{"n": counts, "Timestamp": [iso(b) for b in bins]}]


def _pivot() -> list[dict[str, Any]]:
    names = sorted({r["DeviceName"] for r in V(L)})
    actions = sorted({r["ActionType"] for r in V(L)})
    return [
        {
            "DeviceName": d,
            **{a: sum(1 for r in V(L) if r["DeviceName"] == d and r["ActionType"] == a) for a in actions},
        }
        for d in names
    ]


def _top_device() -> list[dict[str, Any]]:
    counts = Counter(r["DeviceName"] for r in V(P))
    name, c = counts.most_common(1)[0]
    return [{"DeviceName": name, "c": c}]


def _percentiles() -> list[dict[str, Any]]:
    sizes = sorted(r["FileSize"] for r in V(F))

    def disc(p: float) -> int:  # nearest-rank percentile, as KQL's percentile() returns a value of the set
        import math

        return sizes[max(0, math.ceil(p / 100 * len(sizes)) - 1)]

    created = [r for r in V(F) if r["ActionType"] == "FileCreated"]
    return [
        {
            "percentile_FileSize_50": disc(50),
            "percentile_FileSize_90": disc(90),
            "Created": len(created),
            "Names": len({r["FileName"] for r in created}),
        }
    ]


CASES: list[Case] = [
    Case(
        "has_any_list",
        f'{P} | where ProcessCommandLine has_any ("whoami", "urlcache") | project ProcessId',
        lambda: pick(
            [
                r
                for r in V(P)
                if has(r["ProcessCommandLine"], "whoami") or has(r["ProcessCommandLine"], "urlcache")
            ],
            "ProcessId",
        ),
    ),
    Case(
        "has_all_and_not_has_any",
        f'{P} | where ProcessCommandLine has_all ("net", "add") and ProcessCommandLine !has_any ("localgroup") | project ProcessId',
        lambda: pick(
            [
                r
                for r in V(P)
                if has(r["ProcessCommandLine"], "net")
                and has(r["ProcessCommandLine"], "add")
                and not has(r["ProcessCommandLine"], "localgroup")
            ],
            "ProcessId",
        ),
    ),
    Case(
        "has_any_let_list_with_comment",
        'let tools = dynamic(["whoami", // discovery\n "certutil"]);\n'
        f"{P} | where FileName has_any (tools) | project ProcessId",
        lambda: pick(
            [r for r in V(P) if has(r["FileName"], "whoami") or has(r["FileName"], "certutil")], "ProcessId"
        ),
    ),
    Case(
        "has_any_pack_array",
        f'let bad = pack_array("mimikatz", "rundll32");\n{P} | where FileName has_any (bad) | project ProcessId',
        lambda: pick(
            [r for r in V(P) if has(r["FileName"], "mimikatz") or has(r["FileName"], "rundll32")], "ProcessId"
        ),
    ),
    Case(
        "has_punctuation_edges",
        f'{P} | where ProcessCommandLine has "/tn" and ProcessCommandLine has @"C:\\Temp" | project ProcessId',
        lambda: pick(
            [
                r
                for r in V(P)
                if "/tn" in r["ProcessCommandLine"].lower()
                and re.search(r"c:\\temp(?![0-9a-z])", r["ProcessCommandLine"].lower())
            ],
            "ProcessId",
        ),
    ),
    Case(
        "has_any_table",
        f'let tools = datatable(Name: string) ["whoami", "net"];\n{P} | where ProcessCommandLine has_any (tools) | project ProcessId',
        lambda: pick(
            [
                r
                for r in V(P)
                if has(r["ProcessCommandLine"], "whoami") or has(r["ProcessCommandLine"], "net")
            ],
            "ProcessId",
        ),
    ),
    Case(
        "project_reorder",
        f'{AI} | where AlertId == "da1" | project-reorder Title, Sev*',
        lambda: [
            {
                "Title": r["Title"],
                "Severity": r["Severity"],
                **{
                    k: v if k != "Timestamp" else iso(v)
                    for k, v in r.items()
                    if k not in ("Title", "Severity")
                },
            }
            for r in V(AI)
            if r["AlertId"] == "da1"
        ],
    ),
    Case(
        "project_keep",
        f"{P} | where ProcessId == 4100 | project-keep Device*, ProcessId",
        lambda: pick([r for r in V(P) if r["ProcessId"] == 4100], "DeviceId", "DeviceName", "ProcessId"),
    ),
    Case(
        "mv_expand_users",
        f"{I} | mv-expand u = parse_json(LoggedOnUsers) | project DeviceName, user = tostring(u.UserName)",
        lambda: [
            {"DeviceName": r["DeviceName"], "user": u["UserName"]}
            for r in V(I)
            for u in (js(r["LoggedOnUsers"]) or [])
        ],
    ),
    Case(
        "mv_expand_index_typed",
        "print a = dynamic([10, 20, 30]) | mv-expand with_itemindex=i v = a to typeof(long) | project i, v",
        lambda: [{"i": 0, "v": 10}, {"i": 1, "v": 20}, {"i": 2, "v": 30}],
        ordered=True,
    ),
    Case(
        "mv_expand_bag_and_empty",
        'print b = dynamic({"x": 1, "y": 2}), e = dynamic([]) | mv-expand b | project b',
        lambda: [{"b": {"x": 1}}, {"b": {"y": 2}}],
    ),
    Case(
        "parse_simple",
        f'{P} | where FileName == "schtasks.exe" | parse ProcessCommandLine with * "/tn " Task " /tr " Target " " * | project Task, Target',
        lambda: [
            {"Task": "Updater", "Target": "C:\\Temp\\u.exe"} for r in V(P) if r["FileName"] == "schtasks.exe"
        ],
    ),
    Case(
        "parse_typed_and_where",
        'datatable(line: string) ["port=443 user=bob", "port=x user=amy", "no match"]\n'
        '| parse-where line with "port=" Port:long " user=" User',
        lambda: [{"line": "port=443 user=bob", "Port": 443, "User": "bob"}],
    ),
    Case(
        "let_scalar_function",
        f'let lower_name = (s: string) {{ tolower(s) }};\n{P} | where lower_name(FileName) == "powershell.exe" | count',
        lambda: [{"Count": sum(1 for r in V(P) if r["FileName"].lower() == "powershell.exe")}],
    ),
    Case(
        "let_tabular_function_default",
        f"let recent = (span: timespan = 2d) {{ {P} | where Timestamp > ago(span) }};\nrecent() | count",
        lambda: [{"Count": sum(1 for r in V(P) if r["Timestamp"] > NOW - timedelta(days=2))}],
    ),
    Case(
        "invoke_user_function",
        f'let onlyNet = (T: (FileName: string)) {{ T | where FileName == "net.exe" }};\n{P} | invoke onlyNet() | count',
        lambda: [{"Count": sum(1 for r in V(P) if r["FileName"] == "net.exe")}],
    ),
    Case(
        "datatable_lookup",
        'let rank = datatable(Severity: string, Rank: long) ["High", 3, "Medium", 2, "Low", 1];\n'
        f"{AI} | lookup rank on Severity | project AlertId, Rank",
        lambda: [
            {"AlertId": r["AlertId"], "Rank": {"High": 3, "Medium": 2, "Low": 1}.get(r["Severity"])}
            for r in V(AI)
        ],
    ),
    Case(
        "union_wildcard",
        "union Alert* | count",
        lambda: [{"Count": len(V(AI)) + len(V(AE))}],
    ),
    Case(
        "search_term",
        f'search in ({P}, {N}) "evil.example" | summarize count() by $table',
        lambda: _search("evil.example", P, N),
    ),
    Case(
        "find_where",
        f'find in ({P}, {N}) where InitiatingProcessFileName == "cmd.exe" project FileName',
        lambda: [
            {"source_": t, "FileName": r.get("FileName")}
            for t in (P, N)
            for r in V(t)
            if r["InitiatingProcessFileName"] == "cmd.exe"
        ],
    ),
    Case(
        "getschema",
        f"{AI} | getschema | project ColumnName, ColumnOrdinal, ColumnType",
        lambda: [
            {"ColumnName": c, "ColumnOrdinal": i, "ColumnType": k} for i, (c, k) in enumerate(TABLES[AI])
        ],
    ),
    Case(
        "serialize_row_number_prev",
        f"{P} | where DeviceId == '{D1}' | sort by Timestamp asc | serialize | extend rn = row_number(), prevName = prev(FileName) | project rn, FileName, prevName",
        _row_numbers,
        ordered=True,
    ),
    Case(
        "top_nested",
        f"{P} | top-nested 1 of DeviceName by c = count()",
        _top_device,
    ),
    Case(
        "make_series",
        f"{N} | make-series n = count() default = 0 on Timestamp from ago(3d) to now() step 1d",
        _series,
    ),
    Case(
        "bag_unpack",
        'print d = dynamic({"a": 1, "b": "x"}) | evaluate bag_unpack(d)',
        lambda: [{"a": 1, "b": "x"}],
    ),
    Case(
        "pivot",
        f"{L} | project DeviceName, ActionType | evaluate pivot(ActionType)",
        _pivot,
    ),
    Case(
        "coalesce_and_typed_nulls",
        'print c = coalesce("", "x"), n = coalesce(long(null), 5), s = "a" "b"',
        lambda: [{"c": "x", "n": 5, "s": "ab"}],
    ),
    Case(
        "parse_path_url_command_line",
        'print p = parse_path(@"C:\\a\\b\\c.txt"), u = parse_url("https://user:pw@h.example:8443/p/q?x=1#f"), '
        'c = parse_command_line(@\'cmd.exe /c "a b" c\', "windows")',
        lambda: [
            {
                "p": {
                    "Scheme": "",
                    "RootPath": "C:\\",
                    "DirectoryPath": "C:\\a\\b",
                    "DirectoryName": "b",
                    "Filename": "c.txt",
                    "Extension": "txt",
                    "AlternateDataStreamName": "",
                },
                "u": {
                    "Scheme": "https",
                    "Host": "h.example",
                    "Port": "8443",
                    "Path": "/p/q",
                    "Username": "user",
                    "Password": "pw",
                    "Query Parameters": {"x": "1"},
                    "Fragment": "f",
                },
                "c": ["cmd.exe", "/c", "a b", "c"],
            }
        ],
    ),
    Case(
        "ipv4_functions",
        f'{N} | extend priv = ipv4_is_private(RemoteIP), inr = ipv4_is_in_range(RemoteIP, "203.0.113.0/24") | project RemoteIP, priv, inr',
        lambda: [
            {
                "RemoteIP": r["RemoteIP"],
                "priv": r["RemoteIP"].startswith("10."),
                "inr": r["RemoteIP"].startswith("203.0.113."),
            }
            for r in V(N)
        ],
    ),
    Case(
        "dynamic_access",
        'print a = array_length(todynamic(\'[1,2,3]\')), b = toint(todynamic(\'{"x":{"y":5}}\').x.y), c = tostring(todynamic(\'{"k":"v"}\')["k"])',
        lambda: [{"a": 3, "b": 5, "c": "v"}],
    ),
    Case(
        "conditional_aggregates",
        f'{F} | summarize percentiles(FileSize, 50, 90), Created = countif(ActionType == "FileCreated"), Names = dcountif(FileName, ActionType == "FileCreated")',
        _percentiles,
    ),
    Case(
        "stdev_take_any",
        f'{P} | where FileName == "net.exe" | summarize s = stdev(FileSize), a = take_any(FileName)',
        lambda: [{"s": 0.0, "a": "net.exe"}],
    ),
    Case(
        "datetime_part_dayofweek_format_timespan",
        'print dp = datetime_part("month", datetime(2024-03-05)), dow = dayofweek(datetime(2024-03-05)) / 1d, ft = format_timespan(26h + 3m + 4s, "d.hh:mm:ss")',
        lambda: [{"dp": 3, "dow": 2.0, "ft": "1.02:03:04"}],
    ),
    Case(
        "materialize_toscalar",
        f"let m = materialize({P} | summarize c = count());\nprint n = toscalar(m)",
        lambda: [{"n": len(V(P))}],
    ),
    Case(
        "render_is_ignored",
        f"{AI} | summarize n = count() by Severity | render columnchart",
        lambda: [{"Severity": s, "n": c} for s, c in Counter(r["Severity"] for r in V(AI)).items()],
    ),
    Case(
        "distinct_expression",
        f"{P} | distinct Name = tolower(FileName)",
        lambda: [{"Name": n} for n in {r["FileName"].lower() for r in V(P)}],
    ),
    Case(
        "sample_count",
        f"{P} | sample 2 | count",
        lambda: [{"Count": 2}],
    ),
    Case(
        "geo_private_address",
        'print g = geo_info_from_ip_address("10.0.0.1"), country = isnotempty(tostring(geo_info_from_ip_address("203.0.113.10").country))',
        lambda: [{"g": {}, "country": True}],
    ),
    Case(
        "ingestion_time_after_event",
        f"{P} | where ProcessId == 4100 | extend d = ingestion_time() - Timestamp | project ok = d between (20s .. 5m)",
        lambda: [{"ok": True}],
    ),
    Case(
        "summarize_tuple_names_and_wrapped_aggregate",
        f"{P} | summarize (LastTime, LastFile) = arg_max(Timestamp, FileName), tostring(dcount(AccountName)) by DeviceId | project DeviceId, LastFile, dcount_AccountName",
        lambda: [
            {
                "DeviceId": d,
                "LastFile": max((r for r in V(P) if r["DeviceId"] == d), key=lambda r: r["Timestamp"])[
                    "FileName"
                ],
                "dcount_AccountName": str(len({r["AccountName"] for r in V(P) if r["DeviceId"] == d})),
            }
            for d in {r["DeviceId"] for r in V(P)}
        ],
    ),
    Case(
        "range_and_strcat_array",
        'range x from 1 to 3 step 1 | summarize l = make_list(x) | project s = strcat_array(array_sort_asc(l), "-"), n = array_length(range(1, 5, 2))',
        lambda: [{"s": "1-2-3", "n": 3}],
    ),
    Case(
        "base64_bytes_guid_and_make_string",
        'print a = base64_decode_toarray("S3VzdG8="), g = base64_decode_toguid("JpbpECu8dUy7Pv5gbeJXAA=="), '
        'bad = base64_decode_toarray("not base64!"), s = make_string(75, 117, 115, 116, 111), '
        't = make_string(base64_decode_toarray("S3VzdG8="), 33)',
        # the values of the KQL reference pages' examples; "Kusto" as UTF-8 bytes
        lambda: [
            {
                "a": list(b"Kusto"),
                "g": "10e99626-bc2b-4c75-bb3e-fe606de25700",
                "bad": None,
                "s": "Kusto",
                "t": "Kusto!",
            }
        ],
    ),
]
