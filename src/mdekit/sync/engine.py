"""The sync engine: per tenant and entity, a backfill then incremental passes, resumable anywhere.

A *pass* lists the records changed at or after its *floor* and commits them page by page, each
page together with the checkpoint that says where the pass stands (its floor and the token of
the next page). A run killed at any instant restarts from the last committed page: the page
after it is fetched again, and the sink's de-duplication makes a re-read a no-op.

The next pass's floor: every record changed after the current pass started has a version at or
after the time the pass fetched its first page, which is at least the newest version the sink
held then, and at least the newest version on that first page. The larger of the two, minus an
overlap window (late or out-of-order updates, clock skew between the service's nodes), is the
next floor. Records changed while a pass was paging behind them are therefore read by the next.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from mdekit.sync.entities import Entity, shift
from mdekit.sync.result import PassResult
from mdekit.sync.sinks.base import Sink, json_records
from mdekit.sync.source import JsonPage, Source

__all__ = ["PassResult", "Syncer"]

log = logging.getLogger("mdekit.sync")

T = TypeVar("T")

#: Default overlap window (seconds) subtracted from each incremental floor.
OVERLAP = 300.0


@dataclass
class Syncer:
    """Copies *entities* of every source into *sink*.

    ``since``: the first pass's floor (a datetime or timedelta ago; ``None``: everything).
    ``on_page``: called after every committed page (progress output, tests that kill a run).
    """

    sink: Sink
    sources: list[Source]
    entities: list[Entity]
    since: datetime | timedelta | None = None
    overlap: float = OVERLAP
    on_page: Callable[[PassResult], None] | None = None
    clock: Callable[[], float] = time.time
    results: list[PassResult] = field(default_factory=list)

    def run_once(self, sources: Iterable[Source] | None = None) -> list[PassResult]:
        """One pass of every entity of every source (a pass interrupted earlier is finished first)."""
        done = [self.sync(src, entity) for src in (sources or self.sources) for entity in self.entities]
        self.results.extend(done)
        return done

    def _since(self) -> str | None:
        since = self.since
        if since is None:
            return None
        if isinstance(since, timedelta):
            since = datetime.fromtimestamp(self.clock(), UTC) - since
        return since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

    def sync(self, source: Source, entity: Entity) -> PassResult:
        """Finish or run one pass of *entity* for *source*."""
        tenant, started = source.name, time.monotonic()
        result = PassResult(tenant, entity.name)
        if entity.mode == "hunting":  # windows of a query's Timestamp, not pages of a list
            from mdekit.sync.hunting import run_pass

            done = run_pass(
                self.sink, source, entity, result,
                overlap=self.overlap, since=self._since(), clock=self.clock, on_page=self.on_page,
            )  # fmt: skip
            return self._done(done, started, "windows")
        cp = self.sink.checkpoint(tenant, entity) or {}
        if cp.get("token") is None:  # a new pass
            floor = cp.get("nextFloor") or self._since()
            cp = {
                "pass": int(cp.get("pass", 0)) + 1,
                "floor": shift(floor, -self.overlap) if floor and entity.mode == "incremental" else None,
                "nextFloor": cp.get("nextFloor") or floor,
                "held": _capped(self.sink.max_version(tenant, entity), source),
                "token": None,
                "pages": 0,
                "startedAt": _stamp(self.clock()),
                "lastCompleteAt": cp.get("lastCompleteAt"),
                "lastCompleteStart": cp.get("lastCompleteStart"),
            }
        pages = source.json_pages(entity, cp["floor"], cp["token"])
        for page, records in prefetched(pages, lambda page: json_records(entity, page.records)):
            if cp["pages"] == 0:  # first page of the pass: the next floor's bound (module docstring)
                newest = max((r.version for r in records), default=None)
                held = max(filter(None, (cp.get("held"), newest)), default=None)
                # A version from the future (bad data, a skewed node) must not lift the floor past
                # now: changes made meanwhile, stamped with the right time, would be skipped.
                now = _version(source.client.clock())
                cp["held"] = min(held, now) if held else None
            cp["pages"] += 1
            cp["token"] = page.next_token
            if page.next_token is None:
                cp["nextFloor"] = cp.get("held") or cp.get("nextFloor")
                cp["lastCompleteAt"] = _stamp(self.clock())
                cp["lastCompleteStart"] = cp["startedAt"]
            result.changed += self.sink.commit(tenant, entity, records, cp)
            result.pages += 1
            result.records += len(records)
            if self.on_page is not None:
                self.on_page(result)
        return self._done(result, started, "pages")

    @staticmethod
    def _done(result: PassResult, started: float, unit: str) -> PassResult:
        result.complete = True
        result.seconds = time.monotonic() - started
        log.info(
            "%s %s: pass complete, %d %s, %d records, %d changed",
            result.tenant, result.entity, result.pages, unit, result.records, result.changed,
        )  # fmt: skip
        return result


def prefetched(pages: Iterator[JsonPage], prepare: Callable[[JsonPage], T]) -> Iterator[tuple[JsonPage, T]]:
    """*pages* with ``prepare(page)``, the next ones fetched and prepared by a helper thread while
    the caller commits the current one.

    The sink's work (writing, committing) then overlaps the wait for the service's next answer
    and the preparation of its records; the caller's thread only feeds the sink. Only the helper
    thread uses the client; at most one page waits in the queue; the helper's exception (after
    the pages before it) is raised here.
    """
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                item = (page, prepare(page))
                while not stop.is_set():
                    try:
                        box.put(("page", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(("error", exc))

    worker = threading.Thread(target=fetch, name="mdekit-sync-fetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # unblock a helper waiting to put, then let it finish its page
            with contextlib.suppress(queue.Empty):
                box.get_nowait()
            worker.join(timeout=0.1)


def _capped(version: str | None, source: Source) -> str | None:
    return min(version, _version(source.client.clock())) if version else None


def _version(seconds: float) -> str:
    """Epoch seconds as a normalized version."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
