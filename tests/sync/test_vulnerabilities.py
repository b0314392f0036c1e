"""Vulnerabilities sync by ``updatedOn`` (the API filters on it; service-facts-2 §1.1)."""

from __future__ import annotations

from pathlib import Path

from sync_helpers import World

from mdekit.sync.engine import Syncer
from mdekit.sync.entities import ENTITIES, normalize_time
from mdekit.sync.sinks import open_sink

VULNS = ENTITIES["vulnerabilities"]


def test_vulnerabilities_backfill_and_incremental(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=15, alerts=10)
    sink = open_sink(f"sqlite:///{tmp_path}/mde.db")
    source = world.source(tid, page_size=100)
    syncer = Syncer(sink, [source], [VULNS])
    first = syncer.run_once()[0]
    listed = {v["id"]: normalize_time(v["updatedOn"]) for page in source.pages(VULNS, None, None)
              for v in page.records}  # fmt: skip
    assert first.records == len(listed) > 0
    assert {k: v for k, (v, _) in sink.records(tid, VULNS).items()} == listed
    second = syncer.run_once()[0]
    assert second.changed == 0 and second.records < len(listed)  # only what changed since: the filter works
    sink.close()
