"""Every sink: backfill, changes after simulated hours, re-reads that change nothing, schema checks."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import ALERTS, INCIDENTS, MACHINES, World

from mdekit.errors import ConfigurationError
from mdekit.sync.engine import Syncer
from mdekit.sync.entities import Entity
from mdekit.sync.sinks import open_sink

ENTITIES = [ALERTS, MACHINES, INCIDENTS]
KINDS = ["sqlite", "duckdb", "postgres", "ndjson", "parquet"]


def sink_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "postgres":
        return str(request.getfixturevalue("pg_url"))
    if kind == "parquet" and importlib.util.find_spec("pyarrow") is None:
        pytest.skip("pyarrow is not installed: the Parquet sink is optional")
    return {"sqlite": f"sqlite:///{tmp_path}/mde.db", "duckdb": f"{tmp_path}/mde.duckdb"}.get(
        kind, f"{kind}:///{tmp_path}/out"
    )


def stored(sink: Any, tid: str, entity: Entity) -> dict[str, str]:
    """``{id: version}`` the sink holds; file sinks: the last line per id, none written twice."""
    if hasattr(sink, "records"):
        return {rid: v for rid, (v, _) in sink.records(tid, entity).items()}
    lines = [row for row in sink.lines(entity) if row["tenant"] == tid]
    keys = [(row["id"], row["version"], json.dumps(row["data"], sort_keys=True)) for row in lines]
    assert len(keys) == len(set(keys)), "a record version was written twice"
    return {row["id"]: row["version"] for row in lines}


@pytest.mark.parametrize("kind", KINDS)
def test_sink_mirrors_the_tenant(
    kind: str, world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tid = world.tenant(machines=15, alerts=150)
    url = sink_url(kind, tmp_path, request)
    sink = open_sink(url)
    world.post(
        "/_emulator/activity", {"seed": 3, "rates": {"alerts": 30, "alertUpdates": 30, "machinesStale": 2}}
    )
    syncer = Syncer(sink, [world.source(tid)], ENTITIES)
    for _ in range(3):
        syncer.run_once()
        for entity in ENTITIES:
            assert stored(sink, tid, entity) == world.truth(tid, entity), entity.name
        world.advance(4 * 3600)
    before = sink.status()
    assert sum(r.changed for r in syncer.run_once()) > 0
    assert sum(r.changed for r in syncer.run_once()) == 0  # a re-read changes nothing
    sink.close()
    reopened = open_sink(url)  # the schema exists: opening again migrates nothing, keeps everything
    rows = {(r["tenant"], r["entity"]): r for r in reopened.status()}
    assert rows[(tid, "alerts")]["records"] == len(world.truth(tid, ALERTS))
    assert rows[(tid, "alerts")]["checkpoint"]["pass"] == 5
    assert len(before) == 3
    reopened.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    import sqlite3

    sink = open_sink(str(tmp_path / "mde.db"))
    sink.close()
    conn = sqlite3.connect(tmp_path / "mde.db")
    conn.execute("UPDATE mde_sync_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ConfigurationError, match="newer mdekit"):
        open_sink(str(tmp_path / "mde.db"))


@pytest.mark.parametrize("url", ["mysql://x", "nothing", "sqlite://"])
def test_unknown_sinks_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        open_sink(url)


def test_postgres_rows_are_jsonb_and_upserted(world: World, pg_url: str) -> None:
    import psycopg

    tid = world.tenant(machines=5, alerts=40)
    sink = open_sink(pg_url)
    Syncer(sink, [world.source(tid)], [ALERTS]).run_once()
    with psycopg.connect(pg_url) as conn:
        count, kinds = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT jsonb_typeof(data)) FROM mde_alerts WHERE data->>'id' = id"
        ).fetchone()  # type: ignore[misc]
        version = conn.execute("SELECT value FROM mde_sync_meta WHERE key = 'schema_version'").fetchone()
    assert (count, kinds) == (40, 1)
    assert version == ("1",)
    sink.close()
