"""Sync the rows of an advanced-hunting query (``mde sync --entities hunting:NAME``), incrementally.

``NAME`` is a canned hunt (``mde hunt --list``; parameters as ``hunting:NAME?param=value&...``,
the others take their defaults) or a ``.kql`` file (``hunting:./queries/logons.kql``: a path with a
``/`` or ending in ``.kql``; the entity is then named after the file's stem).

Hunting has no update time to filter on and no paging: a query answers at most 100,000 rows
(service-facts: run-advanced-query-api; Graph's runHuntingQuery likewise), silently cut beyond.
So a pass reads the query's rows in *windows* of their ``Timestamp``: the sync appends
``| where Timestamp > datetime(LO) and Timestamp <= datetime(HI)`` to the query (the last window
of a pass has no upper bound) and commits each window's rows together with the checkpoint that
says where the next window starts. A window that comes back full (the row limit reached: the
answer may be cut) or too large (the service's result-size error) is committed nowhere: it is
halved and read again, until a half fits; the next window is sized for about half the limit at
the density just seen (at most 4 times wider): every query counts against the service's quota of
45 calls a minute, so windows should rarely come back full.

Windows are half-open and contiguous, so a row belongs to exactly one; a pass killed anywhere
restarts at the first window not committed. The next pass starts at the older of the pass's start
time and the newest ``Timestamp`` it read, minus the overlap window: rows ingested late (hunting
tables fill minutes after the event) with a ``Timestamp`` inside the overlap are still read, and a
data clock ahead of or behind the sync's clock loses nothing. Rows are keyed by
``DeviceId|ReportId|Timestamp`` when the row has them (the documented identity of a device event),
else by a hash of the whole row: reading a row twice (the overlap, a resumed window) stores it once.

The query's results need a ``Timestamp`` column (summarizing hunts such as ``rare-parent-child``
cannot be synced incrementally). A query ending in ``take``/``top`` limits each window, not the
whole result. The service's call and CPU quotas answer 429, which the client's retry policy waits
out (``Retry-After``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mdekit.errors import BadRequestError, ConfigurationError, MdeError
from mdekit.sync.entities import Entity, normalize_time
from mdekit.sync.sinks.base import Record, _dumps

if TYPE_CHECKING:
    from collections.abc import Callable

    from mdekit.sync.result import PassResult
    from mdekit.sync.sinks.base import Sink
    from mdekit.sync.source import Source

__all__ = ["ROW_LIMIT", "prepare_rows", "run_pass", "window_query"]

log = logging.getLogger("mdekit.sync")

#: The most rows one hunting answer holds (MDE, XDR and Graph hunting APIs); a full answer may be cut.
ROW_LIMIT = 100_000
#: How far back a first pass reads without ``--since``: the hunting tables keep 30 days.
RETENTION_US = 30 * 86_400_000_000
_SIZE_ERROR = "exceeded the allowed result size"
_US = 1_000_000


def window_query(query: str, lo_us: int, hi_us: int | None) -> str:
    """*query* keeping only rows with ``LO < Timestamp <= HI`` (no upper bound without *hi_us*)."""
    cond = f"Timestamp > datetime({_kql_time(lo_us)})"
    if hi_us is not None:
        cond += f" and Timestamp <= datetime({_kql_time(hi_us)})"
    # a newline first: the query may end in a // comment; a trailing ';' would end the statement
    return f"{query.rstrip().rstrip(';').rstrip()}\n| where {cond}"


def prepare_rows(rows: list[dict[str, Any]]) -> list[Record]:
    """Records of one window's rows: keyed by DeviceId|ReportId|Timestamp, or by the row's hash."""
    out: dict[str, Record] = {}
    for row in rows:
        data = _dumps(row)
        digest = hashlib.blake2b(data.encode(), digest_size=16).hexdigest()
        version = normalize_time(row.get("Timestamp"))
        device, report = row.get("DeviceId"), row.get("ReportId")
        if device not in (None, "") and report not in (None, ""):
            key = f"{device}|{report}|{version}"
        else:  # no event identity: the whole row is its identity (its content, sorted keys)
            key = hashlib.blake2b(_dumps(dict(sorted(row.items()))).encode(), digest_size=16).hexdigest()
        out[key] = Record(key, version, digest[:16], data)
    return list(out.values())


def run_pass(
    sink: Sink,
    source: Source,
    entity: Entity,
    result: PassResult,
    *,
    overlap: float,
    since: str | None,
    clock: Callable[[], float],
    on_page: Callable[[PassResult], None] | None,
) -> PassResult:
    """Finish or run one pass of the hunting *entity* for *source* into *sink* (the module
    docstring): *overlap* seconds back from the last pass, or from *since*, else the retention."""
    tenant = source.name
    cp = sink.checkpoint(tenant, entity) or {}
    if cp.get("token") is None:  # a new pass: from the last one's floor, --since, or 30 days back
        now = _us(source.client.clock())
        if cp.get("nextFloor") is not None:
            lo = int(cp["nextFloor"]) - int(overlap * _US)
        else:
            lo = _time_us(since) if since else now - RETENTION_US
        cp = {
            "pass": int(cp.get("pass", 0)) + 1,
            "token": "window",  # a pass in progress (what `mde sync status` shows)
            "lo": lo,
            "upper": now,
            "span": None,
            "seen": None,
            "nextFloor": cp.get("nextFloor"),
            "pages": 0,
            "startedAt": _stamp(clock()),
            "lastCompleteAt": cp.get("lastCompleteAt"),
            "lastCompleteStart": cp.get("lastCompleteStart"),
        }
    limit = source.hunting_row_limit
    while True:
        lo, span, upper = int(cp["lo"]), cp["span"], int(cp["upper"])
        hi = lo + int(span) if span and lo + int(span) < upper else None
        rows, full = _fetch(source, entity, window_query(entity.query, lo, hi), limit)
        if full:  # maybe cut: halve the window and read it again (nothing committed)
            newest = max((_time_us(normalize_time(r.get("Timestamp"))) for r in rows), default=0)
            top = hi if hi is not None else max(upper, newest, lo + 2)
            # the data may run ahead of our clock: the pass's end moves up to the newest row seen,
            # so that the halves are bounded windows (an open one would come back full again)
            cp["upper"] = max(upper, top)
            if top - lo < 2:
                raise MdeError(
                    f"{entity.name}: at least {limit:,} rows share one microsecond of Timestamp "
                    f"({_kql_time(top)}): the window cannot be split; narrow the query"
                )
            cp["span"] = (top - lo) // 2
            log.info("%s %s: a window answered %d rows; halved to %.0f s", tenant, entity.name,
                     len(rows), cp["span"] / _US)  # fmt: skip
            continue
        records = prepare_rows(rows)
        newest_text = max((r.version for r in records), default="")
        if newest_text:
            cp["seen"] = max(int(cp["seen"] or 0), _time_us(newest_text))
        cp["pages"] += 1
        if hi is None:  # the last window: the pass is complete
            cp["token"] = None
            if cp["seen"] is not None:
                cp["nextFloor"] = min(int(cp["upper"]), int(cp["seen"]))
            cp["lastCompleteAt"] = _stamp(clock())
            cp["lastCompleteStart"] = cp["startedAt"]
        else:  # the next window sized for about half the limit at this window's density (4x at most)
            cp["lo"], cp["span"] = hi, max(1, int(int(span) * min(4.0, limit / 2 / max(len(rows), 1))))
        result.changed += sink.commit(tenant, entity, records, cp)
        result.pages += 1
        result.records += len(records)
        if on_page is not None:
            on_page(result)
        if hi is None:
            return result


def _fetch(source: Source, entity: Entity, query: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The window's rows and whether the answer is full (at the row limit, or too large to send)."""
    try:
        answer = source.client.hunting.run(query)
    except BadRequestError as exc:
        if _SIZE_ERROR in str(exc.message):
            return [], True
        raise ConfigurationError(
            f"{entity.name}: the hunting API rejected the query: {exc.message} (a synced query's "
            "results need a Timestamp column: the sync appends | where Timestamp > ...)"
        ) from None
    return answer.rows, len(answer.rows) >= limit


def _us(seconds: float) -> int:
    return int(seconds * _US)


def _time_us(text: str) -> int:
    """A normalized time (7 fractional digits, ``Z``) as epoch microseconds (0 for ``""``)."""
    if not text:
        return 0
    whole = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(whole.timestamp()) * _US + int((text[20:26] or "0").ljust(6, "0"))


def _kql_time(us: int) -> str:
    """Epoch microseconds as a KQL ``datetime()`` literal's text (UTC, 6 fractional digits)."""
    whole, frac = divmod(us, _US)
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}Z"


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
