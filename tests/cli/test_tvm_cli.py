"""TVM commands through the real `mde` script: `mde vulns|software|recommendations|score|export`
and `mde machines vulns|software|missing-kbs`; outputs parse, figures agree, bad input is one line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import httpx
import pytest
from cli_helpers import AppEnv, Result, journal, make_app, parallel

TVM_ROLES = [
    "Vulnerability.Read.All",
    "Software.Read.All",
    "SecurityRecommendation.Read.All",
    "Score.Read.All",
    "Machine.Read.All",
]


@pytest.fixture
def tvm(mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client) -> Callable[..., Result]:
    """``mde`` with an app holding the TVM roles (the default test app holds none of them)."""
    app_id, secret = make_app(control, app_env.tenant, TVM_ROLES, name="cli-tvm")
    app_env.secrets.append(secret)
    return lambda *args: mde(*args, env={"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret})


def test_vulns_software_recommendations_score(tvm: Callable[..., Result]) -> None:
    vulns, crit, software, recs, score = parallel(
        tvm,
        ("vulns", "list", "-o", "json"),
        ("vulns", "list", "--severity", "critical", "-o", "ndjson"),
        ("software", "list", "-o", "csv"),
        ("recommendations", "list", "--top", "3", "-o", "json"),
        ("score", "-o", "json"),
    )
    rows = vulns.json()
    assert rows and all(r["id"].startswith("CVE-") for r in rows)
    assert {r["severity"] for r in crit.ndjson()} == {"Critical"}
    products = list(csv.DictReader(io.StringIO(software.out)))
    assert products and set(products[0]) >= {"id", "name", "vendor", "weaknesses"}
    assert len(recs.json()) == 3
    assert {s["score"] for s in score.json()} == {"exposure", "configuration"}
    cve = max(rows, key=lambda r: r["exposedMachines"] or 0)
    product = max(products, key=lambda p: int(p["exposedMachines"] or 0))["id"]
    one, machines, versions, table = parallel(
        tvm,
        ("vulns", "get", cve["id"], "-o", "json"),
        ("vulns", "machines", cve["id"].lower(), "-o", "json"),
        ("software", "versions", product, "-o", "json"),
        ("software", "machines", product, "-o", "table"),
    )
    assert one.json()["id"] == cve["id"]
    exposed = machines.json()
    assert len(exposed) == cve["exposedMachines"]
    assert sum(v["installations"] for v in versions.json()) > 0
    assert table.code == 0 and "computerDnsName" in table.out
    machine = exposed[0]["id"]
    mv, ms, mk = parallel(
        tvm,
        ("machines", "vulns", machine, "-o", "json"),
        ("machines", "software", machine, "-o", "json"),
        ("machines", "missing-kbs", machine, "-o", "json"),
    )
    assert cve["id"] in {v["id"] for v in mv.json()}
    assert ms.json() and isinstance(mk.json(), list)


def test_export_to_files(tvm: Callable[..., Result], app_env: AppEnv) -> None:
    out = app_env.home
    nd, sheet, via_json = parallel(
        tvm,
        ("export", "software", "--to", str(out / "sw.ndjson")),
        ("export", "vulnerabilities", "--to", str(out / "v.csv")),
        ("export", "software", "--to", str(out / "sw-json.ndjson"), "--via", "json"),
    )
    for result in (nd, sheet, via_json):
        assert result.code == 0 and "wrote" in result.err, result.err
    rows = [json.loads(line) for line in (out / "sw.ndjson").read_text().splitlines()]
    again = [json.loads(line) for line in (out / "sw-json.ndjson").read_text().splitlines()]
    assert rows and sorted(map(json.dumps, rows)) == sorted(map(json.dumps, again))
    assert f"wrote {len(rows):,} rows" in nd.err
    table = list(csv.DictReader(io.StringIO((out / "v.csv").read_text())))
    assert table and set(table[0]) >= {"deviceId", "cveId", "softwareName"}
    parquet = tvm("export", "software", "--to", str(out / "sw.parquet"))
    assert parquet.code == 0, parquet.err
    import pyarrow.parquet as pq  # the arrow extra (the dev install has it)

    frame = pq.read_table(out / "sw.parquet")
    assert frame.num_rows == len(rows) and "softwareName" in frame.column_names
    assert not list(out.glob("*.part"))  # files appear whole or not at all


def test_bad_input_is_one_line_and_nonzero(
    tvm: Callable[..., Result], app_env: AppEnv, control: httpx.Client
) -> None:
    before = len(journal(control))
    cases = parallel(
        tvm,
        ("vulns", "get", "not-a-cve"),
        ("vulns", "list", "--severity", "Catastrophic"),
        ("software", "get", "edge"),
        ("export", "software", "--to", str(app_env.home / "x.xlsx")),
        ("export", "software", "--to", str(app_env.home / "x.csv"), "--via", "ftp"),
    )
    for result in cases:
        assert result.code == 2, (result.args, result.code, result.err)
        assert len(result.err.strip().splitlines()) == 1 and result.out == "", result.err
    assert not [e for e in journal(control)[before:] if e["path"].startswith("/api/")]
    missing = tvm("vulns", "get", "CVE-1999-0001", "-o", "json")
    assert missing.code != 0 and len(missing.err.strip().splitlines()) == 1
