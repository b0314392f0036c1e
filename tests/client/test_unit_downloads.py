"""File-export decoding (gzip or plain JSON lines in any chunking) and the paging rules the TVM
lists add (a catalogue page limit; link-only exports)."""

from __future__ import annotations

import gzip
import json

import pytest

from mdekit.client.downloads import FileRows, FilesCall, JsonLines
from mdekit.client.paging import Cursor, next_cursor
from mdekit.errors import ApiError
from mdekit.models import AssetSoftware, ExportFiles

ROWS = [{"deviceId": f"d{i}", "softwareName": "edge", "softwareVersion": f"1.{i}"} for i in range(50)]
TEXT = b"".join(json.dumps(r).encode() + b"\n" for r in ROWS)


def _decode(data: bytes, size: int) -> list[bytes]:
    lines = JsonLines()
    out: list[bytes] = []
    for i in range(0, len(data), size):
        out += lines.feed(data[i : i + size])
    return out + lines.end()


@pytest.mark.parametrize("size", [1, 2, 7, 4096])
@pytest.mark.parametrize("compress", [True, False])
def test_lines_come_out_whole_in_any_chunking(size: int, compress: bool) -> None:
    data = gzip.compress(TEXT) if compress else TEXT
    assert [json.loads(line) for line in _decode(data, size)] == ROWS


def test_last_line_without_newline_and_blank_lines() -> None:
    data = gzip.compress(b'{"a": 1}\n\n{"a": 2}')
    assert _decode(data, 3) == [b'{"a": 1}', b'{"a": 2}']


def test_several_gzip_members_are_one_stream() -> None:
    data = gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:])
    assert [json.loads(line) for line in _decode(data, 64)] == ROWS


def test_truncated_gzip_is_an_error() -> None:
    data = gzip.compress(TEXT)[:-20]
    with pytest.raises(ApiError, match="truncated"):
        _decode(data, 512)


def test_rows_are_typed_capped_and_read_from_every_file() -> None:
    half = TEXT.index(b"\n", len(TEXT) // 2) + 1  # files hold whole lines
    files = {"u1": gzip.compress(TEXT[:half]), "u2": gzip.compress(TEXT[half:])}
    cut = TEXT[:half].count(b"\n")
    links = ExportFiles.model_validate({"exportFiles": ["u1", "u2"]})
    opened: list[str] = []

    def stream(url: str):  # type: ignore[no-untyped-def]
        opened.append(url)
        data = files[url]
        yield from (data[i : i + 100] for i in range(0, len(data), 100))

    def never(call: object) -> ExportFiles:
        raise AssertionError("links were given: no export call")

    rows = FileRows(never, stream, FilesCall(links, AssetSoftware)).all()
    assert [r.device_id for r in rows] == [r["deviceId"] for r in ROWS] and opened == ["u1", "u2"]
    opened.clear()
    capped = FileRows(never, stream, FilesCall(links, AssetSoftware, limit=cut)).all()
    assert len(capped) == cut and opened == ["u1"]  # the second file is never downloaded


def test_a_line_that_is_not_json_is_a_one_line_error() -> None:
    links = ExportFiles.model_validate({"exportFiles": ["u"]})
    rows = FileRows(
        lambda c: links, lambda u: iter([b'{"deviceId": "d1"}\n{oops\n']), FilesCall(links, AssetSoftware)
    )
    with pytest.raises(ApiError, match="not a JSON record"):
        rows.all()


def test_link_only_lists_end_with_the_last_link() -> None:
    first = Cursor("/api/machines/SoftwareInventoryByMachine", {"pageSize": "2"})
    link = {"@odata.nextLink": "https://h/api/machines/SoftwareInventoryByMachine?pagesize=2&$skiptoken=x"}
    nxt = next_cursor(first, link, 2, link_only=True)
    assert nxt is not None and nxt.link and nxt.query() == {"pagesize": "2", "$skiptoken": "x"}
    assert next_cursor(nxt, {}, 50_000, link_only=True) is None  # never falls back to $skip
    assert next_cursor(nxt, {}, 50_000) is not None  # an ordinary list would go on with $skip


def test_page_limit_of_the_operation_decides_when_a_page_is_full() -> None:
    first = Cursor("/api/vulnerabilities", {})
    after = next_cursor(first, {}, 8_000, max_page=8_000)
    assert after is not None and after.query() == {"$top": "8000", "$skip": "8000"}
    assert next_cursor(first, {}, 7_999, max_page=8_000) is None
