"""The sync engine over the emulator: backfill, steady state over simulated days, de-duplication."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_helpers import ALERTS, INCIDENTS, MACHINES, World

from mdekit.sync.engine import Syncer
from mdekit.sync.sinks.sqlite import SqliteSink

ENTITIES = [ALERTS, MACHINES, INCIDENTS]


def assert_mirrors(world: World, sink: SqliteSink, tid: str) -> None:
    """Every record of the emulator is in the sink once, at the emulator's own version."""
    for entity in ENTITIES:
        stored = {rid: version for rid, (version, _) in sink.records(tid, entity).items()}
        assert stored == world.truth(tid, entity), entity.name


def test_backfill_then_steady_state_over_simulated_days(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=30, alerts=400)
    rates = {"alerts": 10, "alertUpdates": 8, "machines": 1, "machinesStale": 0.5, "machineCheckins": 10}
    world.post("/_emulator/activity", {"seed": 7, "rates": rates})
    sink = SqliteSink(tmp_path / "mde.db")
    syncer = Syncer(sink, [world.source(tid)], ENTITIES)
    first = syncer.run_once()
    assert {r.entity: r.records for r in first}["alerts"] == 400
    assert_mirrors(world, sink, tid)
    read_later = 0
    for _ in range(6):  # two simulated days, a sync every 8 hours
        world.advance(8 * 3600)
        results = syncer.run_once()
        read_later += sum(r.records for r in results if r.entity == "alerts")
        assert_mirrors(world, sink, tid)
    activity = world.control.get("/_emulator/activity").json()["applied"]
    assert activity["alerts"] > 300 and activity["alertUpdates"] > 200, activity
    assert activity["machines"] > 25 and activity["machinesStale"] > 10, activity
    total = len(world.truth(tid, ALERTS))
    assert total > 700
    # incremental: later passes read the changes (plus the overlap), not the whole collection each time
    assert read_later < 6 * total / 3, (read_later, total)
    sink.close()


def test_rereading_changes_nothing(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=10, alerts=120)
    sink = SqliteSink(tmp_path / "mde.db")
    syncer = Syncer(sink, [world.source(tid)], ENTITIES)
    assert sum(r.changed for r in syncer.run_once()) > 0
    again = syncer.run_once()  # the overlap re-reads recent records; machines are listed in full
    assert sum(r.records for r in again) > 0
    assert sum(r.changed for r in again) == 0
    assert_mirrors(world, sink, tid)


@pytest.mark.parametrize("entities", ["alerts,bogus"])
def test_unknown_entity_is_a_configuration_error(entities: str) -> None:
    from mdekit.errors import ConfigurationError
    from mdekit.sync.entities import parse_entities

    with pytest.raises(ConfigurationError, match="unknown entity 'bogus'"):
        parse_entities(entities)
