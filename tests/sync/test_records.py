"""Records from the service's JSON bytes (the sync's path) match records from parsed dicts; the SQL
sinks append pages of new records and merge the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mdekit.client.core import Reply
from mdekit.errors import ApiError
from mdekit.sync.entities import ENTITIES
from mdekit.sync.sinks import open_sink
from mdekit.sync.sinks.base import json_records, prepare
from mdekit.sync.source import _json_page

ALERTS = ENTITIES["alerts"]
INCIDENTS = ENTITIES["incidents"]


def compact(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


def alert(rid: str, updated: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "title": 'Suspicious "quoted" \u00e9', "lastUpdateTime": updated, **extra}


def test_json_records_equal_prepare_on_compact_json() -> None:
    items = [
        alert("a", "2026-01-02T03:04:05.1234567Z"),
        alert("b", "2026-01-02T03:04:05Z"),  # normalized to 7 digits
        alert("a", "2026-01-02T03:04:06.0000000Z", status="Resolved"),  # newer: kept
        alert("a", "2026-01-02T03:04:04.0000000Z"),  # older: dropped
    ]
    got = json_records(ALERTS, [compact(i) for i in items])
    assert got == prepare(ALERTS, items)
    versions = {r.id: r.version for r in got}
    assert versions == {"a": "2026-01-02T03:04:06.0000000Z", "b": "2026-01-02T03:04:05.0000000Z"}
    assert json.loads(got[0].data) == items[2]


def test_json_records_skip_non_objects_and_records_without_id() -> None:
    raw = [b"null", b"[1,2]", b'"text"', compact({"title": "no id"}), compact({"incidentId": 7})]
    (rec,) = json_records(INCIDENTS, raw)
    assert (rec.id, rec.version, rec.data) == ("7", "", '{"incidentId":7}')  # an int id becomes text


def reply(body: bytes) -> Reply:
    return Reply(200, {"content-type": "application/json"}, body)


def test_page_is_cut_into_each_records_json() -> None:
    items = [alert("a", "2026-01-02T03:04:05.1234567Z"), alert("b", "2026-01-02T03:04:05.1234567Z")]
    body = {"@odata.context": "x", "value": items, "@odata.nextLink": "https://h/api/alerts?$skip=2"}
    raw, envelope = _json_page(reply(compact(body)))
    assert [bytes(r) for r in raw] == [compact(i) for i in items]
    assert envelope["@odata.nextLink"] == body["@odata.nextLink"]


def test_pretty_printed_page_gives_compact_records() -> None:
    items = [alert("a", "2026-01-02T03:04:05.1234567Z")]
    raw, envelope = _json_page(reply(json.dumps({"value": items}, indent=2).encode()))
    assert [bytes(r) for r in raw] == [compact(i) for i in items]  # one line each (NDJSON sinks)
    assert envelope.get("@odata.nextLink") is None


@pytest.mark.parametrize("body", [b'{"value": [', b'{"items": []}', b"<html>busy</html>"])
def test_bad_page_is_an_api_error(body: bytes) -> None:
    with pytest.raises(ApiError):
        _json_page(reply(body))


def _page(ids: list[str], updated: str, **extra: Any) -> list[Any]:
    return json_records(ALERTS, [compact(alert(i, updated, **extra)) for i in ids])


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_new_pages_are_appended_and_pages_with_stored_records_merged(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The SQL sinks append a page of new records and merge one that holds stored records: the
    counts and the stored versions are those of a merge either way, and the checkpoint is written."""
    url = str(request.getfixturevalue("pg_url")) if kind == "postgres" else f"duckdb:///{tmp_path}/s.duckdb"
    sink = open_sink(url)
    try:
        old, new = "2026-01-02T03:04:05.0000000Z", "2026-01-03T03:04:05.0000000Z"
        assert sink.commit("t", ALERTS, _page(["a", "b"], old), {"n": 1}) == 2  # all new: appended
        # a stored record in the page: the append is refused and the page merged
        assert sink.commit("t", ALERTS, _page(["b", "c"], new), {"n": 2}) == 2
        assert sink.commit("t", ALERTS, _page(["a", "b", "c"], new), {"n": 3}) == 1  # a is newer
        assert sink.commit("t", ALERTS, _page(["a", "b", "c"], old), {"n": 4}) == 0  # older: kept
        assert sink.commit("t", ALERTS, _page(["d", "e"], new), {"n": 5}) == 2  # new again
        assert sink.commit("t2", ALERTS, _page(["a"], old), {"n": 1}) == 1  # another tenant's own id
        assert {k: v for k, (v, _) in sink.records("t", ALERTS).items()} == dict.fromkeys("abcde", new)
        assert sink.checkpoint("t", ALERTS) == {"n": 5}
    finally:
        sink.close()
