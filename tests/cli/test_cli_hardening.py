"""The CLI never misleads (issue 13), through the real ``mde`` script against the HTTPS emulator:
hostile API data stays inert in tables and CSV, pipes close quietly, bulk actions show live
progress and keep their key columns at 80 columns, resume files survive a missing newline,
system errors are one line with the right exit code, and one duration syntax holds everywhere.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cli_helpers import (
    MDE_BIN,
    AppEnv,
    Result,
    action_timing,
    control_post,
    journal,
    parallel,
    windows_machines,
)

from mdekit.cli.main import EXIT_PIPE
from mdekit.emulator.server import EmulatorServer

RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
CLASS_NAMES = re.compile(r"\b\w+(Error|Exception)\b(?!\))")  # PermissionError, DatabaseError, ...


def _one_line(result: Result, code: int) -> str:
    assert result.code == code, (result.args, result.code, result.err)
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if not ln.startswith(("Usage: ", "Try '"))]
    assert len(errors) == 1 and errors[0].lower().startswith("error"), result.err
    assert not CLASS_NAMES.search(errors[0]), errors[0]
    return errors[0]


def test_hostile_values_in_api_data_stay_inert(mde: Callable[..., Result], api: Callable[..., Any]) -> None:
    osc = "\x1b]0;p\x07[bold red]r[/bold red][link=x]y[/link]"
    for value, title in (("1.2.3.4", osc), ("5.6.7.8", '=HYPERLINK("https://evil.example","x")')):
        api().indicators.submit(
            {"indicatorValue": value, "indicatorType": "IpAddress", "action": "Block", "title": title,
             "description": "d"}
        )  # fmt: skip
    table = mde("indicators", "list", "-o", "table", env={"COLUMNS": "200"})
    sheet, raw = parallel(
        mde,
        ("indicators", "list", "-o", "csv"),
        ("indicators", "list", "-o", "csv", "--csv-raw"),
    )
    assert table.code == 0, table.err
    assert not RAW_CONTROL.search(table.out), repr(table.out)
    assert "\\x1b]0;p\\x07[bold red]r[/bold red][link=x]y[/link]" in table.out  # shown, not obeyed
    titles = {r["indicatorValue"]: r["title"] for r in csv.DictReader(io.StringIO(sheet.out))}
    assert titles["5.6.7.8"] == '\'=HYPERLINK("https://evil.example","x")'
    raw_titles = {r["indicatorValue"]: r["title"] for r in csv.DictReader(io.StringIO(raw.out))}
    assert raw_titles["5.6.7.8"].startswith("=HYPERLINK") and raw_titles["1.2.3.4"] == osc


def test_a_closed_pipe_ends_quietly_with_141(app_env: AppEnv, control: httpx.Client) -> None:
    other = control_post(control, "/tenants", {"displayName": "Big"})["tenantId"]
    control_post(control, f"/tenants/{other}/seed", {"machines": 5, "alerts": 3000, "seed": 2})
    control_post(control, f"/tenants/{other}/consent", {"appId": app_env.app_id})
    listing = ["alerts", "list", "--tenant", other]
    runs = [
        ([*listing, "-o", "ndjson"], 1),  # `| head -1`: the reader takes one line and leaves
        ([*listing, "-o", "csv"], 1),
        ([*listing, "-o", "table"], 3),  # blank line, header, rule: rows written after it left
        ([*listing, "-o", "table", "--filter", "status eq 'Unknown'"], 0),  # only rich writes
        (["alerts", "get", "da000000000000000000_1", "--tenant", other], 0),  # an error as well
    ]
    for argv, lines in runs:
        proc = subprocess.Popen(
            [MDE_BIN, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=app_env.env,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        for _ in range(lines):
            assert proc.stdout.readline()
        proc.stdout.close()  # with 0 lines: gone before mde writes anything
        err = proc.stderr.read().decode()
        proc.stderr.close()  # an open pipe left to the collector is a ResourceWarning (a failure)
        code = proc.wait(timeout=60)
        if argv[1] == "get":  # nothing for stdout: the error line on stderr and its own code
            assert code == 1 and err.startswith("error: ") and len(err.splitlines()) == 1, err
            continue
        assert code == EXIT_PIPE, (argv, code, err)
        assert err == "", (argv, err)


def test_bulk_action_shows_live_progress_and_key_columns_at_80(
    mde: Callable[..., Result], control: httpx.Client, api: Callable[..., Any], tmp_path: Path
) -> None:
    action_timing(control, 0.2, 0.3)
    names = [m.computer_dns_name for m in windows_machines(api())]
    state = tmp_path / "run.state"
    state.write_text(names[0])  # edited by hand: no newline after the last line
    ran = mde(
        "machines", "isolate", *names, "--yes", "--wait", "--interval", "0.1", "--state-file", str(state),
        "-o", "table", env={"COLUMNS": "80"},
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assert state.read_text() == "".join(n + "\n" for n in names)  # never `host0host1`
    lines = ran.out.splitlines()
    assert all(len(line) <= 80 for line in lines), ran.out
    assert "status" in lines[1] and "actionId" in lines[1]
    sent = {a.id: a for a in api().actions.list(type=["Isolate"])}
    assert len(sent) == len(names) - 1
    for action_id in sent:
        assert action_id in ran.out  # whole, copyable
    assert ran.out.count("Succeeded") == len(names) - 1 and "Skipped" in ran.out
    # stderr is not a terminal here: one plain line per step, with counts and an ETA
    err = ran.err.splitlines()
    assert (
        f"isolate {names[0]}: Skipped (done in an earlier run (state file))  [1/{len(names)}, eta" in err[0]
    )
    assert any(
        re.match(rf"isolate {re.escape(names[1])}: Pending \([0-9a-f-]{{36}}\)  \[2/", ln) for ln in err
    )
    assert f"isolate: waiting for {len(names) - 1} action(s) to finish" in err
    assert any(f"Succeeded  [finished {len(names) - 1}/{len(names) - 1}]" in ln for ln in err), ran.err

    again = mde("machines", "isolate", *names, "--yes", "--state-file", str(state), "-o", "json")
    assert again.code == 0 and {r["status"] for r in again.json()} == {"Skipped"}
    assert len(api().actions.list(type=["Isolate"]).all()) == len(names) - 1  # nothing sent twice


def test_waiting_that_gives_up_keeps_status_and_id(
    mde: Callable[..., Result], control: httpx.Client, api: Callable[..., Any]
) -> None:
    action_timing(control, 3600, 60)
    machine = windows_machines(api())[0]
    waited = mde(
        "machines", "scan", machine.id, "--wait", "--timeout", "0.3", "--interval", "0.1", "-o", "json"
    )
    assert waited.code == 1, waited.err
    row = waited.json()[0]
    assert row["status"] == "Pending" and row["actionId"] and "mde actions wait" in row["error"]
    follow = mde("actions", "wait", row["actionId"], "--timeout", "0.3", "--interval", "0.1", "-o", "json")
    assert follow.code == 1 and follow.json()[0]["status"] == "Pending"
    assert "gave up waiting" in follow.err


def test_system_errors_are_one_line_with_the_right_exit_code(
    mde: Callable[..., Result], control: httpx.Client
) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as short:  # paths under 80 characters are quoted whole
        a_file = Path(short, "plain-file")
        a_file.write_text("x")
        corrupt = Path(short, "corrupt.db")
        corrupt.write_bytes(b"not a database" * 100)
        before = len(journal(control))
        port, state_dir, data, env_dir, state = parallel(
            mde,
            ("emulator", "serve", "--port", "70000"),
            ("emulator", "serve", "--state-dir", str(a_file)),
            ("emulator", "serve", "--state-dir", str(Path(short, "st")), "--data", str(corrupt)),
            ("emulator", "env", "--state-dir", "/sys/mdekit-no-such-dir"),  # refused even to root
            ("machines", "isolate", "m1", "--yes", "--state-file", "/sys/mdekit-state"),
        )
    assert "--port" in _one_line(port, 2)
    assert f"--state-dir {a_file}: exists and is not a directory" in _one_line(state_dir, 2)
    assert f"{corrupt} is not an emulator database" in _one_line(data, 2)  # the emulator's own check
    assert re.search(
        r"/sys/mdekit-no-such-dir: (permission denied|operation not permitted)$", _one_line(env_dir, 2)
    )
    assert "state file /sys/mdekit-state: permission denied" in _one_line(state, 2)
    assert len(journal(control)) == before  # refused before anything was sent


def test_one_duration_syntax_on_every_option(mde: Callable[..., Result], control: httpx.Client) -> None:
    iso, kql, minute_or_month, months, hunt = parallel(
        mde,
        ("alerts", "list", "--since", "P3650D", "-o", "json"),
        ("alerts", "list", "--since", "3650d", "-o", "json"),
        ("alerts", "list", "--since", "1M"),
        ("machines", "list", "--since", "6mo"),
        ("hunt", "DeviceInfo | take 1", "--timespan", "1M"),
    )
    assert iso.code == kql.code == 0 and iso.json() == kql.json() and len(iso.json()) == 30
    before = len(journal(control))
    assert "minutes or months" in _one_line(minute_or_month, 2)
    assert "no fixed length" in _one_line(months, 2)
    assert "minutes or months" in _one_line(hunt, 2)
    assert not [e for e in journal(control)[before:] if e["path"].startswith(("/api", "/v1.0"))]


def test_faults_add_takes_a_whole_retry_after(mde: Callable[..., Result], emu: EmulatorServer) -> None:
    where = ("--url", emu.url, "--ca", str(emu.ca_cert))
    fault = ("--status", "429", "--path", "/api/nothing", "--retry-after", "7")
    added = mde("emulator", "faults", "add", *fault, *where, "--json")
    assert added.code == 0, added.err
    listed = mde("emulator", "faults", "list", *where, "--json")
    plans = listed.json()["value"] if isinstance(listed.json(), dict) else listed.json()
    assert [p["retryAfter"] for p in plans] == [7]
    assert mde("emulator", "faults", "add", "--retry-after", "1.5", *where).code == 2
