"""Unit tests for the shared output renderer (every command prints through it)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest

from mdekit.cli import output
from mdekit.errors import ConfigurationError

ROWS = [
    {"id": "a1", "severity": "High", "tags": ["x", "y"], "user": {"name": "bob"}, "n": None},
    {"id": "a2", "severity": "Low", "tags": [], "user": None, "n": 3},
]


def test_json_is_a_parseable_array() -> None:
    buf = io.StringIO()
    assert output.emit(ROWS, "json", stream=buf) == 2
    assert json.loads(buf.getvalue()) == ROWS


def test_json_empty_is_an_empty_array() -> None:
    buf = io.StringIO()
    output.emit([], "json", stream=buf)
    assert json.loads(buf.getvalue()) == []


def test_ndjson_one_object_per_line() -> None:
    buf = io.StringIO()
    output.emit(iter(ROWS), "ndjson", stream=buf)
    assert [json.loads(line) for line in buf.getvalue().splitlines()] == ROWS


def test_csv_flattens_and_selects_columns() -> None:
    buf = io.StringIO()
    output.emit(ROWS, "csv", columns=["id", "tags", "user"], stream=buf)
    got = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert got[0] == {"id": "a1", "tags": "x, y", "user": '{"name":"bob"}'}
    assert got[1] == {"id": "a2", "tags": "", "user": ""}


def test_table_shows_selected_columns_only() -> None:
    buf = io.StringIO()
    output.emit(ROWS, "table", columns=["id", "severity"], stream=buf)
    text = buf.getvalue()
    assert "a1" in text and "High" in text and "bob" not in text


def test_emit_one_table_is_key_value() -> None:
    buf = io.StringIO()
    output.emit_one(ROWS[0], "table", stream=buf)
    assert "severity" in buf.getvalue() and "High" in buf.getvalue()


def test_format_defaults_to_json_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDEKIT_OUTPUT", raising=False)
    assert output.resolve_format(None, io.StringIO()) == "json"
    assert output.resolve_format("CSV") == "csv"
    with pytest.raises(ConfigurationError, match="unknown output format"):
        output.resolve_format("xml")


def test_as_dict_handles_pydantic_and_dataclasses() -> None:
    import dataclasses

    import pydantic

    class Model(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        machine_id: str = pydantic.Field(alias="machineId")

    @dataclasses.dataclass
    class Rec:
        a: int

    model = Model.model_validate({"machineId": "m", "extra": 1})
    assert output.as_dict(model) == {"machineId": "m", "extra": 1}
    assert output.as_dict(Rec(1)) == {"a": 1}


def test_tables_keep_ids_whole_and_the_title_visible() -> None:
    names = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
    row = [
        "da637472900382838869_1364969609",
        "Informational",
        "InProgress",
        "x" * 80,
        "host.contoso.local",
        "t" * 16,
    ]
    for width in (80, 100, 120, 200):
        widths, shown = output.fit_columns(names, [row], width)
        assert 0 in shown and widths[0] == len(row[0]), width  # the id is never cut
        assert 3 in shown and widths[3] >= 16, width  # the title always shows
        assert sum(widths[i] + 3 for i in shown) + 1 <= width, width
    widths, shown = output.fit_columns(names, [row], 200)
    assert shown == list(range(6)) and widths[3] == 60


# -- API data never reaches the terminal or a spreadsheet raw (issue 13) -------------------------

HOSTILE = {
    "id": "a1",
    "title": "pwn\x1b]0;retitled\x07 a\nb",
    "markup": "[bold red]red[/bold red] [link=https://evil.example]x[/link]",
    "description": "csi \x9b31m c1 \x1b[2J clear \x7f del \u202egnp.exe bidi",
}
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")


@pytest.mark.usefixtures("wide")
def test_table_shows_control_characters_as_escapes_and_never_reads_markup() -> None:
    for render in (
        lambda buf: output.emit([HOSTILE], "table", columns=list(HOSTILE), stream=buf),
        lambda buf: output.emit_one(HOSTILE, "table", stream=buf),
        lambda buf: output.emit([{HOSTILE["title"]: 1}], "table", stream=buf),  # a header from data
    ):
        buf = io.StringIO()
        render(buf)
        text = buf.getvalue()
        assert not _RAW_CONTROL.search(text), repr(text)
        assert "\\x1b]0;retitled\\x07" in text
    text = _table([HOSTILE])
    assert "[bold red]red[/bold red]" in text and "[link=https://evil.example]x[/link]" in text
    assert "\\x9b31m" in text and "\\x1b[2J" in text and "\\x7f" in text and "\\u202e" in text
    assert "\\x07 a\\nb" in text and len(text.splitlines()) == 5  # one row stays one line


def _first_column(text: str) -> str:
    """The first column's pieces joined: a value wrapped over several lines reads whole again."""
    rows = text.splitlines()[3:]  # blank line, header, rule
    return "".join(line.split()[0] for line in rows if line.strip() and line.startswith("  "))


def _table(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    output.emit(rows, "table", columns=list(rows[0]), stream=buf)
    return buf.getvalue()


def test_info_lines_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    output.info("error: Machine \x1b]0;x\x07 was not found\nsecond")
    assert capsys.readouterr().err == "error: Machine \\x1b]0;x\\x07 was not found\nsecond\n"


def test_json_escapes_c1_and_bidi_but_keeps_the_value() -> None:
    for fmt in ("json", "ndjson"):
        buf = io.StringIO()
        output.emit([HOSTILE], fmt, stream=buf)
        assert not _RAW_CONTROL.search(buf.getvalue())
        parsed = json.loads(buf.getvalue()) if fmt == "json" else [json.loads(buf.getvalue())]
        assert parsed == [HOSTILE]
    buf = io.StringIO()
    output.emit_one(HOSTILE, "json", stream=buf)
    assert not _RAW_CONTROL.search(buf.getvalue()) and json.loads(buf.getvalue()) == HOSTILE


def test_csv_cells_that_would_run_as_formulas_get_a_quote() -> None:
    rows = [
        {"v": "=1+2", "n": -3},
        {"v": "+cmd|' /C calc'!A0", "n": 1.5},
        {"v": "-2+3", "n": None},
        {"v": "@SUM(A1)", "n": 0},
        {"v": "\t=x", "n": 2},
        {"v": "\r=x", "n": 2},
        {"v": "plain - text", "n": 2},
    ]
    buf = io.StringIO()
    output.emit(rows, "csv", stream=buf)
    got = list(csv.DictReader(io.StringIO(buf.getvalue(), newline="")))
    assert [r["v"] for r in got] == [
        "'=1+2", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\t=x", "'\r=x", "plain - text"
    ]  # fmt: skip
    assert [r["n"] for r in got] == ["-3", "1.5", "", "0", "2", "2", "2"]  # numbers stay numbers
    raw = io.StringIO()
    output.emit(rows, "csv", stream=raw, csv_raw=True)
    assert [r["v"] for r in csv.DictReader(io.StringIO(raw.getvalue(), newline=""))] == [r["v"] for r in rows]
    header = io.StringIO()
    output.emit([{"=HYPERLINK(x)": 1}], "csv", stream=header)
    assert header.getvalue().startswith("'=HYPERLINK(x)\n")


def test_table_starts_printing_before_the_last_row_is_read() -> None:
    buf = io.StringIO()
    seen_before_end: list[int] = []

    def rows() -> Iterator[dict[str, object]]:
        for i in range(3000):
            if i == 2500:  # far from the end: the first rows must already be on the stream
                seen_before_end.append(buf.getvalue().count("\n"))
            yield {"id": f"a{i}", "title": "x" * (i % 50)}

    assert output.emit(rows(), "table", columns=["id", "title"], stream=buf) == 3000
    assert seen_before_end[0] >= 2000
    lines = buf.getvalue().splitlines()
    assert sum(1 for ln in lines if ln.strip().startswith("a")) == 3000


def test_a_later_value_wider_than_its_column_wraps_and_is_never_cut() -> None:
    first = [{"id": f"m{i}", "title": "t"} for i in range(250)]
    later = {"id": "machine-with-a-much-longer-id-0123456789", "title": "t"}
    buf = io.StringIO()
    output.emit([*first, later], "table", columns=["id", "title"], stream=buf)
    assert _first_column(buf.getvalue()).endswith(later["id"])
    assert max(len(line) for line in buf.getvalue().splitlines()) < 20  # the columns kept their width


def test_key_columns_stay_visible_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from mdekit.cli.acting import KEY_COLUMNS, RESULT_COLUMNS

    monkeypatch.setenv("COLUMNS", "80")
    rows = [
        {
            "target": f"desktop-{i:04d}.corp.contoso.example.com",
            "status": "Succeeded" if i else "Error",
            "actionId": f"3fa85f64-5717-4562-b3fc-2c963f66af{i:02d}",
            "error": None if i else "Machine x was not found (ResourceNotFound)",
            "computerDnsName": f"desktop-{i:04d}.corp.contoso.example.com",
            "type": "Isolate",
        }
        for i in range(3)
    ]
    buf = io.StringIO()
    output.emit(rows, "table", columns=RESULT_COLUMNS, keep=KEY_COLUMNS, stream=buf)
    text = buf.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert "status" in text and "actionId" in text and "Succeeded" in text and "Error" in text
    assert "3fa85f64-5717-4562-b3fc-2c963f66af01" in text and "3fa85f64-5717-4562-b3fc-2c963f66af02" in text
    assert _first_column(text) == "".join(str(r["target"]) for r in rows)  # wrapped, never cut


def test_action_monitor_lines_counts_and_eta(capsys: pytest.CaptureFixture[str]) -> None:
    from mdekit.cli.monitor import Monitor, eta_text

    assert [eta_text(s) for s in (0, 42, 185, 3720)] == ["0s", "42s", "3m05s", "1h02m"]
    now = [0.0]
    with Monitor("isolate", 3, live=False, clock=lambda: now[0]) as monitor:
        now[0] = 10.0
        monitor.sent("host1", "Pending", "id-1", opened=True)  # 10 s each: 20 s to go
        now[0] = 20.0
        monitor.sent("host\x1b]0;x\x07", "Error", "not found")
        now[0] = 30.0
        monitor.sent("host3", "Pending", "id-3", opened=True)
        monitor.following(["host1", "host3"])
        monitor.changed("host1", "InProgress", "Pending")
        now[0] = 70.0
        monitor.finished("host1", "Succeeded")  # took 60 s; host3 was sent at 30 s: 20 s to go
        now[0] = 95.0
        monitor.finished("host3", "TimeOut", "gave up waiting")
    assert capsys.readouterr().err.splitlines() == [
        "isolate host1: Pending (id-1)  [1/3, eta 20s]",
        "isolate host\\x1b]0;x\\x07: Error (not found)  [2/3, eta 10s]",
        "isolate host3: Pending (id-3)  [3/3]",
        "isolate: waiting for 2 action(s) to finish",
        "isolate host1: Pending -> InProgress",
        "isolate host1: Succeeded  [finished 1/2, eta 20s]",
        "isolate host3: TimeOut (gave up waiting)  [finished 2/2]",
    ]
    with Monitor("scan", 1, live=True) as monitor:  # rich progress on stderr: the lines still show
        monitor.sent("host1", "Pending", "id-1", opened=True)
        monitor.following(["host1"])
        monitor.finished("host1", "Succeeded")
    err = capsys.readouterr().err
    assert "scan host1: Pending (id-1)" in err and "scan host1: Succeeded" in err
