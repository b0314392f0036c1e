"""Parser errors name line and column; unsupported operators/functions are named; schema types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kql_dataset import NOW, load, us

from mdekit.emulator.hunting.engine import run_query
from mdekit.emulator.hunting.store import new_database
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlSyntaxError, KqlUnsupportedError


@pytest.fixture(scope="module")
def conn() -> Iterator[Any]:
    c = new_database()
    load(c)
    yield c
    c.close()


@pytest.mark.parametrize(
    ("query", "line", "column"),
    [
        ("DeviceProcessEvents | where FileName = 'x'", 1, 38),
        ("DeviceProcessEvents\n| where FileName == 'x'\n| project ,", 3, 11),
        ("DeviceProcessEvents | summarize count() by", 1, 43),
        ("let x = ;\nDeviceInfo", 1, 9),
    ],
)
def test_syntax_error_names_line_and_column(
    conn: Any, query: str, line: int, column: int
) -> None:
    with pytest.raises(KqlSyntaxError) as err:
        run_query(conn, query, us(NOW))
    assert (err.value.line, err.value.column) == (line, column)
    assert f"on line [{line},{column}]" in str(err.value)


@pytest.mark.parametrize("op", ["mv-apply", "partition", "scan", "fork", "facet"])
def test_unsupported_operator_is_named(conn: Any, op: str) -> None:
    with pytest.raises(KqlUnsupportedError, match=f"Unsupported operator '{op}'"):
        run_query(conn, f"DeviceInfo | {op} x", us(NOW))


def test_unsupported_function_and_join_kind_are_named(conn: Any) -> None:
    with pytest.raises(KqlUnsupportedError, match="Unsupported function 'series_decompose_anomalies'"):
        run_query(conn, "DeviceInfo | extend g = series_decompose_anomalies(PublicIP)", us(NOW))
    with pytest.raises(KqlUnsupportedError, match="Unsupported join kind 'sideways'"):
        run_query(conn, "DeviceInfo | join kind=sideways (DeviceInfo) on DeviceId", us(NOW))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DeviceInfo | where NoSuchColumn == 1", "Failed to resolve scalar expression named 'NoSuchColumn'"),
        ("NoSuchTable | take 1", "Failed to resolve table or column expression named 'NoSuchTable'"),
        ("DeviceInfo | where count() > 1", "only valid inside 'summarize'"),
        ("DeviceInfo | take -1", "non-negative integer"),
    ],
)
def test_semantic_errors(conn: Any, query: str, message: str) -> None:
    with pytest.raises(KqlSemanticError, match=message):
        run_query(conn, query, us(NOW))


def test_schema_types_cover_every_kind(conn: Any) -> None:
    q = (
        "DeviceNetworkEvents | take 1 | extend D = 1.5, B = true, O = parse_json('{\"a\":1}'), "
        "L = tolong('7'), S = 'x' | project Timestamp, RemotePort, ReportId, D, B, O, S"
    )
    result = run_query(conn, q, us(NOW))
    assert result.schema() == [
        {"Name": "Timestamp", "Type": "DateTime"},
        {"Name": "RemotePort", "Type": "Int32"},
        {"Name": "ReportId", "Type": "Int64"},
        {"Name": "D", "Type": "Double"},
        {"Name": "B", "Type": "Boolean"},
        {"Name": "O", "Type": "Object"},
        {"Name": "S", "Type": "String"},
    ]
    row = result.rows[0]
    assert row["B"] is True and row["O"] == {"a": 1} and row["D"] == 1.5
    assert row["Timestamp"].endswith("Z") and len(row["Timestamp"].split(".")[1]) == 8  # 7 digits + Z
