"""``--entities hunting:NAME``: a hunting query's rows synced in Timestamp windows, exactly once.

The emulator's hunting row limit is shrunk (its store's ``Limits``) so that windows really come
back full and get split; the truth is the emulator's own answer to the whole query, run on its
store with the default limits.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_helpers import World
from test_cli_sync import _mde
from test_kill import kill_and_restart
from test_sinks import KINDS, sink_url, stored

from mdekit.emulator.hunting.engine import Limits
from mdekit.emulator.hunting.store import hunting_store
from mdekit.errors import ConfigurationError, MdeError
from mdekit.sync.engine import Syncer
from mdekit.sync.entities import Entity, parse_entities
from mdekit.sync.hunting import prepare_rows, window_query
from mdekit.sync.sinks import open_sink

SPEC = "hunting:recent-alerts-with-evidence?lookback=30d"
LIMIT = 40


@pytest.fixture
def small_limit(world: World) -> Iterator[int]:
    """The emulator answers at most LIMIT rows per hunting query (the service: 100,000)."""
    store = hunting_store(world.state)
    store.limits = Limits(max_rows=LIMIT)
    yield LIMIT
    store.limits = Limits()


def truth(world: World, tid: str, entity: Entity) -> dict[str, str]:
    """``{key: version}`` of every row the whole query answers now (no row limit)."""
    store = hunting_store(world.state)
    saved, store.limits = store.limits, Limits()
    try:
        rows = store.run(tid, entity.query).rows
    finally:
        store.limits = saved
    return {r.id: r.version for r in prepare_rows(rows)}


def test_hunting_entities_from_canned_hunts_and_files(tmp_path: Path) -> None:
    (entity,) = parse_entities(SPEC)
    assert entity.name == SPEC and entity.mode == "hunting"
    assert entity.table == "mde_hunting_recent_alerts_with_evidence_lookback_30d"
    assert "ago(30d)" in entity.query and "{lookback}" not in entity.query
    path = tmp_path / "logons.kql"
    path.write_text("// failed logons\nDeviceLogonEvents | where ActionType == 'LogonFailed';\n")
    alerts, hunted = parse_entities(f"alerts,hunting:{path},hunting:{path}")
    assert (
        alerts.name == "alerts" and hunted.name == "hunting:logons" and hunted.table == "mde_hunting_logons"
    )
    windowed = window_query(hunted.query, 1_000_000, 3_500_000)
    assert windowed.endswith(
        "'LogonFailed'\n| where Timestamp > datetime(1970-01-01T00:00:01.000000Z) "
        "and Timestamp <= datetime(1970-01-01T00:00:03.500000Z)"
    )
    for spec, message in (
        ("hunting:", "needs a query name"),
        ("hunting:no-such-hunt", "no canned hunt 'no-such-hunt'"),
        ("hunting:processes-by-hash", "needs --param hash"),
        ("hunting:processes-by-hash?hash", "is not NAME=VALUE"),
        ("hunting:recent-alerts-with-evidence?lookback=soon", "not a timespan"),
        (f"hunting:{tmp_path}/missing.kql", "cannot read the query file"),
    ):
        with pytest.raises(ConfigurationError, match=message):
            parse_entities(spec)


def test_rows_keyed_by_event_identity_or_content() -> None:
    event = {"Timestamp": "2026-01-02T03:04:05.1234567Z", "DeviceId": "d1", "ReportId": 7, "X": 1}
    (rec,) = prepare_rows([event, {**event}])  # the same row twice: one record
    assert rec.id == "d1|7|2026-01-02T03:04:05.1234567Z" and rec.version == event["Timestamp"]
    a = prepare_rows([{"Timestamp": "2026-01-02T03:04:05Z", "AlertId": "a", "EntityType": "File"}])
    b = prepare_rows([{"EntityType": "File", "AlertId": "a", "Timestamp": "2026-01-02T03:04:05Z"}])
    c = prepare_rows([{"Timestamp": "2026-01-02T03:04:05Z", "AlertId": "a", "EntityType": "User"}])
    assert a[0].id == b[0].id != c[0].id  # no identity columns: the content, whatever the key order


@pytest.mark.parametrize("kind", KINDS)
def test_backfill_in_split_windows_then_steady_state_over_days(
    kind: str, world: World, small_limit: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tid = world.tenant(machines=15, alerts=120)
    (entity,) = parse_entities(SPEC)
    sink = open_sink(sink_url(kind, tmp_path, request))
    windows: list[int] = []
    seen = [0]

    def on_page(result: object) -> None:
        records = getattr(result, "records")  # noqa: B009 - the pass's running total
        windows.append(records - seen[0])
        seen[0] = records

    syncer = Syncer(sink, [world.source(tid, hunting_row_limit=small_limit)], [entity], on_page=on_page)
    try:
        (first,) = syncer.run_once()
        expected = truth(world, tid, entity)
        assert len(expected) > 5 * small_limit  # the backfill could not fit one answer
        assert stored(sink, tid, entity) == expected
        assert first.pages > 5 and max(windows) < small_limit  # split until every window fit
        world.post("/_emulator/activity", {"seed": 7, "rates": {"alerts": 12, "alertUpdates": 6}})
        union = dict(expected)
        for _ in range(8):  # two simulated days, a pass every 6 hours
            seen[0] = 0
            world.advance(6 * 3600)
            syncer.run_once()
            union.update(truth(world, tid, entity))  # rows leaving the 30-day window stay synced
            assert stored(sink, tid, entity) == union
        assert len(union) > len(expected) + 100  # the generator really added rows
        (again,) = syncer.run_once()
        assert again.changed == 0 and again.records > 0  # the overlap re-read stores nothing twice
        row = next(r for r in sink.status() if r["entity"] == entity.name)
        assert row["records"] == len(union) and row["checkpoint"]["token"] is None
    finally:
        sink.close()


def test_a_window_that_cannot_be_split_is_an_error(world: World, small_limit: int, tmp_path: Path) -> None:
    tid = world.tenant(machines=0)
    now_us = int(world.state.clock.time() * 1_000_000)
    rows = [
        {"Timestamp": now_us - 3_600_000_000, "AlertId": f"a{i}", "Title": "t"} for i in range(small_limit)
    ]
    hunting_store(world.state).load(tid, {"AlertInfo": rows})
    entity = Entity("hunting:same-time", "hunting.run", "", "Timestamp", mode="hunting", query="AlertInfo")
    sink = open_sink(f"sqlite:///{tmp_path}/mde.db")
    try:
        with pytest.raises(MdeError, match="share one microsecond of Timestamp"):
            Syncer(sink, [world.source(tid, hunting_row_limit=small_limit)], [entity]).run_once()
        assert stored(sink, tid, entity) == {}  # nothing half-read was committed
    finally:
        sink.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkill_at_random_points_then_restart(
    kind: str, world: World, small_limit: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sink_url(kind, tmp_path, request)
    tids = [world.tenant(f"T{i}", machines=10, alerts=150, seed=i) for i in range(2)]
    (entity,) = parse_entities(SPEC)
    # the child sleeps for real: the hunting quota (45 calls a minute; the client's limiter and the
    # emulator's) would make a pass of ~150 small windows wait minutes
    world.post("/_emulator/throttling", {"enabled": False})
    before = {tid: truth(world, tid, entity) for tid in tids}
    outcomes = kill_and_restart(
        world,
        tids,
        url,
        tmp_path,
        kills=4,
        seed=13,
        entities=SPEC,
        huntingRowLimit=small_limit,
        rateLimit=False,
    )
    assert outcomes["killed"] >= 2, outcomes  # the runs really died mid-way
    sink = open_sink(url)
    try:
        for tid in tids:
            # every row the query answers now, once (keys are the primary key), none that never
            # existed (a row older than the 30 days the service keeps may be gone before it was read)
            now, held = truth(world, tid, entity), stored(sink, tid, entity)
            assert now.items() <= held.items(), tid
            assert held.items() <= {**before[tid], **now}.items(), tid
    finally:
        sink.close()


def test_mde_sync_hunting_from_the_command_line(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=10, alerts=60)
    sink = f"sqlite:///{tmp_path}/mde.db"
    done = _mde(
        world, tid, tmp_path, "sync", "--to", sink, "--entities", f"alerts,{SPEC}", "--once", "-o", "json"
    )
    assert done.returncode == 0, done.stderr
    rows = {r["entity"]: r for r in json.loads(done.stdout)}
    (entity,) = parse_entities(SPEC)
    assert rows[SPEC]["records"] == len(truth(world, tid, entity)) > 60
    status = _mde(world, tid, tmp_path, "sync", "status", "--to", sink, "-o", "json")
    by_entity = {r["entity"]: r for r in json.loads(status.stdout)}
    assert by_entity[SPEC]["records"] == rows[SPEC]["records"] and by_entity[SPEC]["inProgress"] is False
    for spec, message in (
        ("hunting:no-such-hunt", "no canned hunt 'no-such-hunt'"),
        ("hunting:rare-parent-child", "need a Timestamp column"),
    ):
        bad: subprocess.CompletedProcess[str] = _mde(
            world, tid, tmp_path, "sync", "--to", sink, "--entities", spec
        )
        assert bad.returncode != 0 and message in bad.stderr, bad.stderr
        # one error line; a fallback to the retiring MDE hunting API may add one notice line before it
        lines = bad.stderr.strip().splitlines()
        assert "Traceback" not in bad.stderr and lines[-1].startswith("error:"), bad.stderr
        assert all(line.startswith("notice: ") for line in lines[:-1]) and len(lines) <= 2, bad.stderr
