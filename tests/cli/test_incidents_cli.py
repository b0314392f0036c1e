"""`mde incidents` and `mde alerts --api graph` end to end: the real `mde` script over HTTPS.

The app holds Defender for Endpoint, Microsoft Threat Protection (XDR incidents) and Microsoft
Graph (security incidents, alerts_v2) roles; each command's output is checked against what the
other API then answers (one model underneath), and bad input is one line with exit 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cli_helpers import AppEnv, Result, control_post, journal, make_app, parallel

from mdekit.catalog import GRAPH, MTP

MTP_URI, GRAPH_URI = MTP.identifier_uris[0], GRAPH.identifier_uris[0]


def _roles(*mde: str, mtp: tuple[str, ...] = (), graph: tuple[str, ...] = ()) -> list[Any]:
    return [*mde, *({"resource": MTP_URI, "role": r} for r in mtp),
            *({"resource": GRAPH_URI, "role": r} for r in graph)]  # fmt: skip


@pytest.fixture
def soc(app_env: AppEnv, control: httpx.Client) -> dict[str, str]:
    """Environment of an app with incident and Graph security roles in the seeded tenant."""
    roles = _roles(
        "Alert.ReadWrite.All",
        mtp=("Incident.ReadWrite.All",),
        graph=("SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"),
    )
    app_id, secret = make_app(control, app_env.tenant, roles, name="soc")
    app_env.secrets.append(secret)
    return {"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}


def _one_line(result: Result, code: int = 2) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


def test_incidents_list_in_every_format_and_both_apis(
    mde: Callable[..., Result], soc: dict[str, str]
) -> None:
    xdr, graph, nd, sheet, table, active, top = parallel(
        lambda *a: mde(*a, env={**soc, "COLUMNS": "80"}),
        ("incidents", "list", "--api", "xdr", "-o", "json"),
        ("incidents", "list", "-o", "json"),  # Graph: the default
        ("incidents", "list", "--api", "xdr", "-o", "ndjson"),
        ("incidents", "list", "--api", "graph", "-o", "csv"),
        ("incidents", "list", "--api", "xdr", "--top", "3", "-o", "table"),
        ("incidents", "list", "--api", "XDR", "--status", "active", "-o", "json"),
        ("incidents", "list", "--top", "2", "-o", "json"),
    )
    rows = xdr.json()
    assert rows and all(isinstance(r["incidentId"], int) and r["alerts"] for r in rows)
    alert_ids = {a["alertId"] for r in rows for a in r["alerts"]}
    assert len(alert_ids) == 30  # every seeded alert belongs to exactly one incident
    # the same incidents through Graph: string ids, camelCase values
    by_id = {str(r["incidentId"]): r for r in rows}
    g_rows = graph.json()
    assert {g["id"] for g in g_rows} == set(by_id)
    for g in g_rows:
        assert g["status"] == by_id[g["id"]]["status"][:1].lower() + by_id[g["id"]]["status"][1:]
    assert [r["incidentId"] for r in nd.ndjson()] == [r["incidentId"] for r in rows]
    parsed = list(csv.DictReader(io.StringIO(sheet.out)))
    assert len(parsed) == len(rows) and {"id", "status", "severity", "displayName"} <= set(parsed[0])
    assert table.code == 0 and str(rows[0]["incidentId"]) in table.out and "status" in table.out
    assert all(len(line) <= 80 for line in table.out.splitlines())
    assert all(r["status"] == "Active" for r in active.json())
    assert len(top.json()) == 2


def test_incident_update_and_comment_round_trip_across_apis(
    mde: Callable[..., Result], soc: dict[str, str]
) -> None:
    first = mde("incidents", "list", "--api", "xdr", "--top", "1", "-o", "json", env=soc).json()[0]
    ident = str(first["incidentId"])
    updated = mde(
        "incidents",
        "update",
        ident,
        "--api",
        "xdr",
        "--status",
        "inprogress",
        "--assigned-to",
        "secop@contoso.com",
        "--classification",
        "truepositive",
        "--determination",
        "malware",
        "--tag",
        "ransomware,tier1",
        "--comment",
        "looking into it",
        "-o",
        "json",
        env=soc,
    )
    assert updated.code == 0, updated.err
    row = updated.json()[0]
    assert (row["status"], row["classification"], row["determination"]) == (
        "InProgress",
        "TruePositive",
        "Malware",
    )
    assert row["tags"] == ["ransomware", "tier1"] and row["assignedTo"] == "secop@contoso.com"

    seen = mde("incidents", "get", ident, "--alerts", "-o", "json", env=soc).json()  # Graph: the default
    assert (seen["status"], seen["classification"], seen["determination"]) == (
        "inProgress",
        "truePositive",
        "malware",
    )
    assert seen["customTags"] == ["ransomware", "tier1"]
    assert "looking into it" in [c["comment"] for c in seen["comments"]]
    assert {a["id"] for a in seen["alerts"]} == {a["alertId"] for a in first["alerts"]}

    graph_update = mde(
        "incidents", "update", ident, "--api", "graph", "--status", "Resolved", "--comment", "resolving",
        "-o", "json", env=soc,
    )  # fmt: skip
    assert graph_update.code == 0, graph_update.err
    graph_row = graph_update.json()[0]  # the PATCH, then the comment: a second request
    assert graph_row["status"] == "resolved" and graph_row["comments"][-1]["comment"] == "resolving"
    commented = mde("incidents", "comment", ident, "closed: contained", "-o", "json", env=soc)
    assert commented.code == 0, commented.err
    assert [c["comment"] for c in commented.json()][-2:] == ["resolving", "closed: contained"]
    xdr_note = mde("incidents", "comment", ident, "audit done", "--api", "xdr", "-o", "json", env=soc)
    assert xdr_note.code == 0 and xdr_note.json()[-1]["comment"] == "audit done", xdr_note.err
    back = mde("incidents", "get", ident, "--api", "xdr", "-o", "json", env=soc).json()
    assert back["status"] == "Resolved"
    assert [c["comment"] for c in back["comments"]][-3:] == ["resolving", "closed: contained", "audit done"]


def test_alerts_through_graph(mde: Callable[..., Result], soc: dict[str, str]) -> None:
    mde_rows, graph_rows, high = parallel(
        lambda *a: mde(*a, env=soc),
        ("alerts", "list", "-o", "json"),
        ("alerts", "list", "--api", "graph", "-o", "json"),
        ("alerts", "list", "--api", "graph", "--severity", "High", "-o", "ndjson"),
    )
    assert {r["id"] for r in graph_rows.json()} == {r["id"] for r in mde_rows.json()}
    assert high.ndjson() and all(r["severity"] == "high" for r in high.ndjson())
    target = graph_rows.json()[0]["id"]
    updated = mde(
        "alerts",
        "update",
        target,
        "--api",
        "graph",
        "--status",
        "resolved",
        "--classification",
        "falsepositive",
        "--determination",
        "clean",
        "-o",
        "json",
        env=soc,
    )
    assert updated.code == 0, updated.err
    assert (updated.json()[0]["status"], updated.json()[0]["classification"]) == ("resolved", "falsePositive")
    commented = mde(
        "alerts", "comment", target, "benign admin script", "--api", "graph", "-o", "json", env=soc
    )
    assert commented.code == 0 and commented.json()[-1]["comment"] == "benign admin script", commented.err
    mde_note = mde("alerts", "comment", target, "closed in the MDE API", "-o", "json", env=soc)
    assert mde_note.code == 0 and mde_note.json()[-1]["comment"] == "closed in the MDE API", mde_note.err
    seen = mde("alerts", "get", target, "-o", "json", env=soc).json()  # the MDE API sees the change
    assert (seen["status"], seen["classification"]) == ("Resolved", "FalsePositive")
    graph_seen = mde("alerts", "get", target, "--api", "graph", "-o", "json", env=soc).json()
    assert graph_seen["evidence"] and all("@odata.type" in e for e in graph_seen["evidence"])
    assert [c["comment"] for c in graph_seen["comments"]][-2:] == [
        "benign admin script",
        "closed in the MDE API",
    ]


def test_bad_input_is_one_line_before_anything_is_sent(
    app_env: AppEnv,
    soc: dict[str, str],
    control: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mdekit.cli.main import main

    for name, value in {**app_env.env, **soc}.items():  # in-process: nothing here needs the network
        monkeypatch.setenv(name, value)
    before = len(journal(control))

    def refused(*argv: str) -> str:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        err = capsys.readouterr().err
        return _one_line(Result(list(argv), int(done.value.code or 0), "", err))

    assert "incident ids are numbers" in refused("incidents", "get", "abc")
    assert "--api" in refused("incidents", "list", "--api", "sentinel")
    assert "needs --api graph" in refused("incidents", "list", "--api", "xdr", "--severity", "High")
    assert "needs --api graph" in refused("incidents", "get", "7", "--api", "xdr", "--alerts")
    assert "Closed" in refused("incidents", "list", "--status", "Closed")
    assert "nothing to update" in refused("incidents", "update", "7")
    assert "Redirected" in refused("incidents", "update", "7", "--status", "Redirected")  # merging only
    assert "empty comment" in refused("incidents", "update", "7", "--comment", " ")
    assert "empty comment" in refused("incidents", "comment", "7", "  ")
    assert "1M" in refused("incidents", "list", "--since", "1M")
    assert "Closed" in refused("alerts", "list", "--api", "graph", "--status", "Closed")
    assert "unknown" in refused("alerts", "update", "da1", "--api", "graph", "--status", "unknown")
    assert "--api" in refused("alerts", "list", "--api", "xdr")  # XDR has alerts only inside incidents
    assert len(journal(control)) == before  # refused before any request (token or API)


def test_missing_roles_and_unknown_incident(
    mde: Callable[..., Result], soc: dict[str, str], app_env: AppEnv, control: httpx.Client
) -> None:
    reader_id, reader_secret = make_app(
        control, app_env.tenant, _roles(mtp=("Incident.Read.All",)), name="ro"
    )
    app_env.secrets.append(reader_secret)
    reader = {"AZURE_CLIENT_ID": reader_id, "AZURE_CLIENT_SECRET": reader_secret}
    denied, graph_denied, missing, ok = parallel(
        lambda *a: mde(*a[1:], env=a[0]),
        (reader, "incidents", "update", "1", "--api", "xdr", "--status", "Resolved"),
        (reader, "incidents", "list"),  # Graph, the default: its permission is named, nothing sent
        (soc, "incidents", "get", "999999999"),
        (reader, "incidents", "list", "--api", "xdr", "--top", "1", "-o", "json"),
    )
    assert "Incident.ReadWrite.All" in _one_line(denied, 4)
    assert "SecurityIncident.Read.All" in _one_line(graph_denied, 4)
    assert "999999999" in _one_line(missing, 1)
    assert ok.code == 0 and len(ok.json()) == 1


def test_graph_listing_follows_next_links_past_a_page(
    mde: Callable[..., Result], soc: dict[str, str], app_env: AppEnv, control: httpx.Client
) -> None:
    control_post(control, f"/tenants/{app_env.tenant}/seed", {"machines": 30, "alerts": 150, "seed": 5})
    xdr, graph = parallel(
        lambda *a: mde(*a, env=soc),
        ("incidents", "list", "--api", "xdr", "-o", "ndjson"),
        ("incidents", "list", "--api", "graph", "-o", "ndjson"),
    )
    ids = [str(r["incidentId"]) for r in xdr.ndjson()]
    assert len(ids) > 50  # more than one Graph page (50)
    assert [r["id"] for r in graph.ndjson()] == ids  # same order: most recent first
    pages = [r for r in journal(control) if r["path"] == "/v1.0/security/incidents"]
    assert len(pages) >= 2  # ceil(n / 50) pages, each one request
