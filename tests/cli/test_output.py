"""Unit tests for the shared output renderer (every command prints through it)."""

from __future__ import annotations

import csv
import io
import json

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
