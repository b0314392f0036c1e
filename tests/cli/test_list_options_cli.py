"""``--select``, ``--order-by`` and ``--count`` through the real ``mde`` script (issue 12).

Each run is a subprocess against the emulator over HTTPS; what is asserted is what a user sees:
the columns and keys printed (in the entity's key order), the order of the rows, and counts equal
to the number of rows the emulator lists for the same filters. Bad values: one line, non-zero exit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cli_helpers import AppEnv, Result, make_app, parallel

from mdekit.catalog import GRAPH

GRAPH_ALERTS = [{"resource": GRAPH.identifier_uris[0], "role": "SecurityAlert.Read.All"}]


def test_select_narrows_every_format_in_the_entity_order(mde: Callable[..., Result], api: Any) -> None:
    machines = api().machines.list().all()
    as_json, as_csv, as_ndjson, table = parallel(
        mde,
        ("machines", "list", "--select", "computerDnsName,id", "-o", "json"),
        ("machines", "list", "--select", "lastSeen", "--select", "id", "-o", "csv"),
        ("machines", "list", "--select", "health_status", "-o", "ndjson"),
        ("machines", "list", "--select", "computerDnsName", "--select", "riskScore", "-o", "table"),
    )
    for run in (as_json, as_csv, as_ndjson, table):
        assert run.code == 0, run.err
    rows = as_json.json()
    # asked computerDnsName first: printed as the service orders a machine's keys (id first)
    assert [list(r) for r in rows] == [["id", "computerDnsName"]] * len(machines)
    assert {r["id"]: r["computerDnsName"] for r in rows} == {m.id: m.computer_dns_name for m in machines}
    sheet = list(csv.reader(io.StringIO(as_csv.out)))
    assert sheet[0] == ["id", "lastSeen"] and len(sheet) == len(machines) + 1
    assert [list(r) for r in as_ndjson.ndjson()] == [["healthStatus"]] * len(machines)
    header = next(line for line in table.out.splitlines() if line.strip())
    assert header.split() == ["computerDnsName", "riskScore"]
    assert "osPlatform" not in table.out and machines[0].computer_dns_name in table.out


def test_order_by_sorts_the_rows(mde: Callable[..., Result]) -> None:
    down, up, two = parallel(
        mde,
        ("alerts", "list", "--order-by", "alertCreationTime desc", "--select", "id,alertCreationTime",
         "-o", "ndjson"),
        ("alerts", "list", "--order-by", "alertCreationTime", "--select", "alertCreationTime", "-o", "json"),
        ("machines", "list", "--order-by", "healthStatus", "--order-by", "computerDnsName desc",
         "--select", "healthStatus,computerDnsName", "-o", "json"),
    )  # fmt: skip
    times = [r["alertCreationTime"] for r in down.ndjson()]
    assert len(times) == 30 and times == sorted(times, reverse=True)
    assert [r["alertCreationTime"] for r in up.json()] == sorted(times)
    pairs = [(r["healthStatus"], r["computerDnsName"]) for r in two.json()]
    assert pairs == sorted(sorted(pairs, key=lambda p: p[1], reverse=True), key=lambda p: p[0])


def test_count_prints_the_number_of_matches(mde: Callable[..., Result], api: Any) -> None:
    alerts = api().alerts.list().all()
    high = sum(a.severity == "High" for a in alerts)
    plain, as_json, filtered, machines = parallel(
        mde,
        ("alerts", "list", "--count", "-o", "table"),
        ("alerts", "list", "--count", "-o", "json"),
        ("alerts", "list", "--severity", "High", "--count", "-o", "csv"),
        ("machines", "list", "--filter", "healthStatus eq 'Active'", "--count", "-o", "ndjson"),
    )
    assert plain.out == f"{len(alerts)}\n"
    assert as_json.json() == {"count": len(alerts)}
    assert filtered.out == f"{high}\n" and high > 0
    active = [m for m in api().machines.list() if m.health_status == "Active"]
    assert machines.ndjson() == [{"count": len(active)}]


def test_graph_lists_take_the_same_options(
    mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client
) -> None:
    app_id, secret = make_app(control, app_env.tenant, GRAPH_ALERTS, name="cli-graph-odata")
    app_env.secrets.append(secret)
    env = {"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}
    listed = mde("alerts", "list", "--api", "graph", "--select", "title,severity",
                 "--order-by", "createdDateTime desc", "-o", "json", env=env)  # fmt: skip
    counted = mde("alerts", "list", "--api", "graph", "--count", "-o", "json", env=env)
    assert listed.code == 0 and counted.code == 0, listed.err + counted.err
    rows = listed.json()
    # Graph returns the id with every projection; the CLI shows what was asked for
    assert rows and [list(r) for r in rows] == [["severity", "title"]] * len(rows)
    assert counted.json() == {"count": len(rows)} and len(rows) == 30


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("machines", "list", "--order-by", "lastSeen sideways"), "'lastSeen sideways'"),
        (("machines", "list", "--select", ","), "at least one property name"),
        (("machines", "list", "--select", "id;drop"), "not a property name"),
        (("alerts", "list", "--count", "--top", "3"), "without --top"),
        (("machines", "list", "--select", "noSuchProperty"), "noSuchProperty"),
    ],
)
def test_bad_values_are_one_line_and_a_non_zero_exit(
    mde: Callable[..., Result], args: tuple[str, ...], text: str
) -> None:
    run = mde(*args, "-o", "json")
    assert run.code != 0 and run.out == ""
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], run.err


def test_sub_collections_take_select_order_by_and_count(mde: Callable[..., Result], api: Any) -> None:
    """``mde machines alerts|logon-users``, ``mde users alerts``, ``mde files machines``: the same options."""
    client = api()
    alerts = client.alerts.list().all()
    machine = max({a.machine_id for a in alerts}, key=lambda m: sum(a.machine_id == m for a in alerts))
    mine = [a for a in alerts if a.machine_id == machine]
    users = client.machines.logon_users(machine).all()
    user = next(u.account_name for u in users if u.account_name)
    of_user = client.users.alerts(user).all()
    sha1 = next(f.sha1 for a in alerts for f in client.alerts.files(a.id) if f.sha1)
    seen_on = client.files.machines(sha1).all()
    down, counted, new, by_user, user_count, logons, on_file, bad = parallel(
        mde,
        ("machines", "alerts", machine, "--order-by", "alertCreationTime desc",
         "--select", "title,id,alertCreationTime", "-o", "json"),
        ("machines", "alerts", machine, "--count", "-o", "json"),
        ("machines", "alerts", machine, "--status", "New", "--count", "-o", "table"),
        ("users", "alerts", user, "--select", "title", "--select", "id", "--order-by", "id", "-o", "csv"),
        ("users", "alerts", user, "--count", "-o", "ndjson"),
        ("machines", "logon-users", machine, "--count", "-o", "json"),
        ("files", "machines", sha1, "--select", "computerDnsName,id", "--order-by", "computerDnsName desc",
         "-o", "json"),
        ("software", "machines", "microsoft-_-edge", "--below", "1.0", "--count", "-o", "json"),
    )  # fmt: skip
    for run in (down, counted, new, by_user, user_count, logons, on_file):
        assert run.code == 0, run.err
    rows = down.json()
    assert [list(r) for r in rows] == [["id", "title", "alertCreationTime"]] * len(mine)  # entity order
    times = [r["alertCreationTime"] for r in rows]
    assert times == sorted(times, reverse=True) and {r["id"] for r in rows} == {a.id for a in mine}
    assert counted.json() == {"count": len(mine)}
    assert new.out == f"{sum(a.status == 'New' for a in mine)}\n"
    sheet = list(csv.reader(io.StringIO(by_user.out)))
    assert sheet[0] == ["id", "title"] and [r[0] for r in sheet[1:]] == sorted(a.id for a in of_user)
    assert user_count.ndjson() == [{"count": len(of_user)}] and of_user
    assert logons.json() == {"count": len(users)}
    names = [r["computerDnsName"] for r in on_file.json()]
    assert names == sorted((m.computer_dns_name for m in seen_on), reverse=True) and names
    assert bad.code != 0 and bad.out == "" and "--below takes no" in bad.err
