# ruff: noqa: E501 - table names and report lines read best on one line each
"""The public-query yardstick: run published hunting queries against a seeded emulator.

Give it directories of public hunting-query collections (``.md``, ``.yaml``/``.yml``, ``.kql``,
``.txt`` files, searched recursively). It extracts every KQL query (fenced blocks in Markdown
outside sections headed "Sentinel", the ``query:`` of YAML files, whole ``.kql``/``.txt`` files),
keeps those that use Device* or Alert* tables and no other table, runs each once against an
emulator seeded through its control plane, over its real HTTPS API (``POST
/api/advancedqueries/run``), and prints:

* the share that runs (HTTP 200) and the share of those that return rows;
* every 400, grouped by the operator, function, table or column it names;
* anything else (5xx, timeouts, dropped connections), which must stay at zero.

Exit status 1 when the goal is missed (under 85 % run, or anything broken). The slow test
``tests/hunting/test_public_corpus.py`` runs it on the directories in ``MDEKIT_HUNTING_CORPUS``.

Nothing fetched is stored in this repository: point it at a copy outside the repository, e.g.
``/work/corpora`` (see benchmarks/README.md for how the copies were made).

Run: ``.venv/bin/python benchmarks/hunting_corpus.py DIR [DIR ...] [--machines N] [--alerts N]
[--timeout S] [--json FILE] [--show KEY]``
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

#: The Device*/Alert* advanced-hunting tables of Microsoft's schema reference (TVM tables included).
DEVICE_TABLES = frozenset(
    ["DeviceInfo", "DeviceNetworkInfo", "DeviceProcessEvents", "DeviceNetworkEvents", "DeviceFileEvents", "DeviceRegistryEvents", "DeviceLogonEvents", "DeviceImageLoadEvents", "DeviceEvents", "DeviceFileCertificateInfo", "DeviceTvmSoftwareInventory", "DeviceTvmSoftwareVulnerabilities", "DeviceTvmSoftwareVulnerabilitiesKB", "DeviceTvmSecureConfigurationAssessment", "DeviceTvmSecureConfigurationAssessmentKB", "DeviceTvmSoftwareEvidenceBeta", "DeviceTvmInfoGathering", "DeviceTvmInfoGatheringKB", "DeviceTvmCertificateInfo", "DeviceTvmHardwareFirmware", "DeviceTvmBrowserExtensions", "DeviceTvmBrowserExtensionsKB", "DeviceBaselineComplianceAssessment", "DeviceBaselineComplianceAssessmentKB", "DeviceBaselineComplianceProfiles", "AlertInfo", "AlertEvidence"]
)
#: Other tables (Defender XDR and Sentinel): a query naming one of them is left out.
OTHER_TABLES = frozenset(
    ["EmailEvents", "EmailAttachmentInfo", "EmailUrlInfo", "EmailPostDeliveryEvents", "UrlClickEvents", "IdentityLogonEvents", "IdentityQueryEvents", "IdentityDirectoryEvents", "IdentityInfo", "IdentityAccountInfo", "IdentityEvents", "CloudAppEvents", "CloudAuditEvents", "CloudProcessEvents", "AADSignInEventsBeta", "AADSpnSignInEventsBeta", "EntraIdSignInEvents", "EntraIdSpnSignInEvents", "BehaviorInfo", "BehaviorEntities", "ExposureGraphNodes", "ExposureGraphEdges", "OAuthAppInfo", "CampaignInfo", "MessageEvents", "DataSecurityEvents", "GraphApiAuditEvents", "SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs", "AADManagedIdentitySignInLogs", "AuditLogs", "SecurityEvent", "SecurityAlert", "SecurityIncident", "OfficeActivity", "Syslog", "CommonSecurityLog", "AzureActivity", "AzureDiagnostics", "Heartbeat", "Event", "W3CIISLog", "DnsEvents", "ThreatIntelligenceIndicator", "ThreatIntelIndicators", "Watchlist", "Anomalies", "MicrosoftGraphActivityLogs", "IntuneDevices", "IntuneAuditLogs", "AWSCloudTrail", "GCPAuditLogs", "StorageBlobLogs", "AzureMetrics", "WindowsEvent", "SentinelHealth", "Usage", "BehaviorAnalytics", "IdentityDirectoryEvents", "UserPeerAnalytics", "UserAccessAnalytics", "ASimProcessEventLogs", "VMConnection"]
)
_FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.M)
_WORD = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


@dataclass
class Query:
    """One extracted query and where it came from."""

    source: str
    text: str
    outcome: str = ""
    status: int = 0
    rows: int = 0
    seconds: float = 0.0
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _tables(text: str) -> set[str]:
    body = re.sub(r"//[^\n]*", "", text)  # comments do not name tables
    return {w for w in _WORD.findall(body) if w in DEVICE_TABLES or w in OTHER_TABLES}


def wanted(text: str) -> bool:
    """Uses at least one Device*/Alert* table and no other known table."""
    names = _tables(text)
    return bool(names) and names <= DEVICE_TABLES


def _markdown(text: str) -> list[str]:
    out = []
    for m in _FENCE.finditer(text):
        headings = _HEADING.findall(text[: m.start()])
        if headings and "sentinel" in headings[-1].lower():
            continue  # the collection's Microsoft Sentinel variant (TimeGenerated, other tables)
        out.append(m.group(2))
    return out


def _yaml(text: str) -> list[str]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    query = doc.get("query") if isinstance(doc, dict) else None
    return [query] if isinstance(query, str) else []


def extract(dirs: list[Path]) -> list[Query]:
    """Every wanted query under *dirs*, first occurrence of each distinct text only."""
    seen: set[str] = set()
    out: list[Query] = []
    for root in dirs:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if any(part.lower() == "sentinel" for part in path.relative_to(root).parts[:-1]):
                continue  # a collection's Microsoft Sentinel variants (TimeGenerated, other tables)
            suffix = path.suffix.lower()
            try:
                text = path.read_text("utf-8", errors="replace")
            except OSError:
                continue
            if suffix == ".md":
                blocks = _markdown(text)
            elif suffix in (".yaml", ".yml"):
                blocks = _yaml(text)
            elif suffix in (".kql", ".txt"):
                blocks = [text]
            else:
                continue
            for block in blocks:
                key = " ".join(block.split())
                if key and key not in seen and wanted(block):
                    seen.add(key)
                    out.append(Query(str(path.relative_to(root.parent)), block.strip()))
    return out


_NAMED = [
    (re.compile(r"Unsupported (\w[\w ]*?) '([^']+)'"), "{0} {1}"),
    (re.compile(r"Failed to resolve table or column expression named '([^']+)'"), "table/name {0}"),
    (re.compile(r"Failed to resolve scalar expression named '([^']+)'"), "column {0}"),
    (re.compile(r"Failed to resolve column named '([^']+)'"), "column {0}"),
    (re.compile(r"Query could not be parsed at '([^']*)'"), "syntax near {0!r}"),
]


def named(message: str) -> str:
    """What a 400's message names (``operator mv-apply``, ``column TimeGenerated``, ...)."""
    for rx, fmt in _NAMED:
        m = rx.search(message)
        if m:
            return fmt.format(*m.groups())
    return message[:90]


class Emulator:
    """An emulator on a real HTTPS socket with one seeded tenant and a hunting app."""

    def __init__(self, machines: int, alerts: int, seed: int, budget: float) -> None:
        from mdekit.catalog import MDE
        from mdekit.emulator.hunting.engine import Limits
        from mdekit.emulator.server import EmulatorServer

        self._dir = tempfile.TemporaryDirectory(prefix="hunting-corpus-")
        home = Path(self._dir.name)
        self.server = EmulatorServer(state_dir=home, data=home / "emulator.db").start()
        verify = ssl.create_default_context(cafile=str(self.server.ca_cert))
        self.http = httpx.Client(base_url=self.server.url, verify=verify, timeout=600)
        tid = self._post("/_emulator/tenants", {"displayName": "Corpus"})["tenantId"]
        started = time.perf_counter()
        self._post(f"/_emulator/tenants/{tid}/seed", {"machines": machines, "alerts": alerts, "seed": seed})
        self.seed_seconds = time.perf_counter() - started
        self._post("/_emulator/throttling", {"enabled": False})  # 45 calls/min would pace the run
        body = {"displayName": "corpus", "permissions": list(MDE.roles), "grantConsent": True, "secret": True}
        app = self._post(f"/_emulator/tenants/{tid}/applications", body)
        form = {
            "grant_type": "client_credentials",
            "client_id": app["appId"],
            "client_secret": app["secret"]["value"],
            "scope": f"{MDE.identifier_uris[0]}/.default",
        }
        token = self.http.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        # The CPU quota (10 min/hour) would stop a long run of slow queries: the run measures the
        # engine, not the quota. The per-query time budget stays, shortened to the client timeout.
        self.server.state.hunting.limits = Limits(
            max_seconds=budget, cpu_seconds_per_hour=1e9, cpu_seconds_per_day=1e9
        )

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.http.post(path, json=body)
        if r.status_code >= 300:
            raise SystemExit(f"{path}: HTTP {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def run(self, q: Query, timeout: float) -> None:
        """Run *q*; fill in its outcome, status, row count, seconds and message."""
        started = time.perf_counter()
        try:
            r = self.http.post(
                "/api/advancedqueries/run", json={"Query": q.text}, headers=self.headers, timeout=timeout
            )
        except httpx.TimeoutException:
            q.outcome, q.seconds = "timeout", time.perf_counter() - started
            return
        except httpx.HTTPError as exc:
            q.outcome, q.message = "transport", f"{type(exc).__name__}: {exc}"
            return
        q.seconds, q.status = time.perf_counter() - started, r.status_code
        if r.status_code == 200:
            q.rows = len(r.json()["Results"])
            q.outcome = "rows" if q.rows else "empty"
        elif r.status_code == 400:
            q.message = str(r.json().get("error", {}).get("message", r.text))
            q.outcome = "400"
        else:
            q.outcome, q.message = f"http {r.status_code}", r.text[:300]

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.server.state.close()
        self._dir.cleanup()


def report(queries: list[Query], out: Any = sys.stdout) -> dict[str, Any]:
    """Print the figures; return them as a dict."""
    total = len(queries)
    ok = [q for q in queries if q.status == 200]
    with_rows = [q for q in ok if q.rows]
    refused = [q for q in queries if q.outcome == "400"]
    broken = [q for q in queries if q.outcome not in ("rows", "empty", "400")]
    pct = lambda n, d: f"{100 * n / d:.1f}%" if d else "n/a"  # noqa: E731
    print(f"queries using only Device*/Alert* tables: {total}", file=out)
    print(f"run (HTTP 200):        {len(ok):4}  {pct(len(ok), total)}   (goal >= 85%)", file=out)
    print(
        f"  of which return rows: {len(with_rows):4}  {pct(len(with_rows), len(ok))} of those that run",
        file=out,
    )
    print(f"refused (HTTP 400):    {len(refused):4}  {pct(len(refused), total)}", file=out)
    print(f"5xx / timeout / other: {len(broken):4}  (goal 0)", file=out)
    for q in broken:
        print(f"  !! {q.outcome}: {q.source}: {q.message[:200]}", file=out)
    groups = Counter(named(q.message) for q in refused)
    if groups:
        print("400s by what they name:", file=out)
        for key, n in groups.most_common():
            print(f"  {n:4}  {key}", file=out)
    times = [q.seconds for q in ok]
    if times:
        print(
            f"time per query that ran: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms",
            file=out,
        )
    return {
        "total": total,
        "ok": len(ok),
        "with_rows": len(with_rows),
        "refused": len(refused),
        "broken": len(broken),
        "refused_by": dict(groups),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="directories holding query collections")
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per query (client and server budget)"
    )
    parser.add_argument("--json", type=Path, help="write every query's outcome here")
    parser.add_argument("--show", help="print the queries whose 400 names this (e.g. 'operator evaluate')")
    parser.add_argument("--list", action="store_true", help="only list the extracted queries' sources")
    args = parser.parse_args(argv)
    queries = extract(args.dirs)
    if args.list:
        for q in queries:
            print(q.source)
        print(f"{len(queries)} queries")
        return 0
    started = time.perf_counter()
    emu = Emulator(args.machines, args.alerts, args.seed, args.timeout)
    print(f"emulator seeded ({args.machines} machines, {args.alerts} alerts) in {emu.seed_seconds:.1f} s")
    try:
        for q in queries:
            emu.run(q, args.timeout)
    finally:
        emu.close()
    print(f"ran {len(queries)} queries in {time.perf_counter() - started:.1f} s")
    figures = report(queries)
    if args.show:
        for q in queries:
            if q.outcome == "400" and named(q.message) == args.show:
                print(f"\n--- {q.source}\n{q.text}\n>>> {q.message}")
    if args.json:
        args.json.write_text(
            json.dumps({"figures": figures, "queries": [q.__dict__ for q in queries]}, indent=1)
        )
    return 0 if meets_goal(figures) else 1


def meets_goal(figures: dict[str, Any]) -> bool:
    """Issue 17's goal: at least 85 % run, and not one 5xx, timeout or dropped connection."""
    return figures["broken"] == 0 and figures["ok"] >= 0.85 * figures["total"]


if __name__ == "__main__":
    sys.exit(main())
