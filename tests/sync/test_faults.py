"""A sync through 429/5xx storms and expiring tokens: the client's limiter, retries and token
lifecycle carry it; the result is still every record exactly once."""

from __future__ import annotations

from pathlib import Path

from sync_helpers import ALERTS, INCIDENTS, MACHINES, World
from test_sinks import stored

from mdekit.sync.engine import PassResult, Syncer
from mdekit.sync.sinks import open_sink

ENTITIES = [ALERTS, MACHINES, INCIDENTS]


def test_sync_survives_fault_storms_and_token_expiry(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=20, alerts=400)
    plans = [
        {"path": "/api/alerts", "status": 429, "retryAfter": 7, "every": 3},
        {"path": "/api/machines", "status": 503, "probability": 0.4, "seed": 1},
        {"path": "/api/incidents", "status": 500, "every": 4},
        {"path": "/api/alerts", "drop": True, "nth": 5},
    ]
    ids = [world.post("/_emulator/faults", p)["id"] for p in plans]
    source = world.source(tid, page_size=50)
    hour_passed: list[int] = []

    def expire_tokens(result: PassResult) -> None:
        if result.pages % 4 == 0:  # tokens live an hour: move past it mid-pass, again and again
            world.advance(3700)  # through the control plane: the activity keeps up with the clock
            hour_passed.append(result.pages)

    sink = open_sink(f"sqlite:///{tmp_path}/mde.db")
    world.post("/_emulator/activity", {"seed": 9, "rates": {"alerts": 20, "alertUpdates": 20}})
    syncer = Syncer(sink, [source], ENTITIES, on_page=expire_tokens)
    for _ in range(3):
        syncer.run_once()
        world.advance(2 * 3600)
    syncer.on_page = None
    syncer.run_once()
    for entity in ENTITIES:
        assert stored(sink, tid, entity) == world.truth(tid, entity), entity.name
    fired = {p["id"]: p["fired"] for p in world.control.get("/_emulator/faults").json()["value"]}
    assert all(fired[i] > 0 for i in ids), fired  # every storm really hit the sync
    assert hour_passed and source.client.token_requests > 3  # tokens were renewed as they expired
    sink.close()
