"""Parser errors name line and column; unsupported operators/functions are named; schema types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kql_dataset import NOW, load, us

from mdekit.emulator.hunting.engine import run_query
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlSyntaxError, KqlUnsupportedError
from mdekit.emulator.hunting.store import new_database


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
def test_syntax_error_names_line_and_column(conn: Any, query: str, line: int, column: int) -> None:
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


def test_unsupported_operator_after_let_is_named(conn: Any) -> None:
    with pytest.raises(KqlUnsupportedError, match="Unsupported operator 'partition'"):
        run_query(conn, "let x = 1;\nDeviceInfo | partition by DeviceId (take 1)", us(NOW))
    with pytest.raises(KqlUnsupportedError, match="Unsupported operator 'fork'"):
        run_query(conn, "let x = 1;\nDeviceInfo | fork (take 1)", us(NOW))


def test_print_search_find_after_let_run(conn: Any) -> None:
    assert run_query(conn, "let a = 2;\nprint b = a * 3", us(NOW)).rows == [{"b": 6}]
    assert (
        run_query(conn, 'let t = "alice";\nsearch in (DeviceInfo) t | count', us(NOW)).rows[0]["Count"] >= 1
    )
    found = run_query(conn, 'let n = "net.exe";\nfind in (DeviceProcessEvents) where FileName == n', us(NOW))
    assert found.rows and {r["source_"] for r in found.rows} == {"DeviceProcessEvents"}


def test_deep_nesting_is_a_clear_error(conn: Any) -> None:
    with pytest.raises(KqlSemanticError, match="nests brackets more than 64 levels"):
        run_query(conn, "print x = " + "(" * 200 + "1" + ")" * 200, us(NOW))
    # long flat chains are fine: and/or are flattened, never a deep tree
    chain = " or ".join(f'FileName == "f{i}.exe"' for i in range(3000))
    assert run_query(conn, f"DeviceProcessEvents | where {chain} | count", us(NOW)).rows == [{"Count": 0}]


def test_long_arithmetic_chain_never_raises_recursion_error(conn: Any) -> None:
    from mdekit.emulator.hunting.errors import KqlError

    try:
        run_query(conn, "print x = " + " + ".join(["1"] * 5000), us(NOW))
    except KqlError as exc:  # a 400 for the caller, never a RecursionError (a 500)
        assert "too deeply" in exc.message or "failed" in exc.message
    except RecursionError:  # pragma: no cover - the defect this test guards
        pytest.fail("RecursionError escaped the engine")


def test_oversized_query_is_refused(conn: Any) -> None:
    from mdekit.emulator.hunting.engine import Limits
    from mdekit.emulator.hunting.errors import KqlLimitError

    with pytest.raises(KqlLimitError, match="The query is too long"):
        run_query(conn, "DeviceInfo // " + "x" * 2000, us(NOW), limits=Limits(max_query_chars=1000))


def test_render_must_be_last(conn: Any) -> None:
    rows = run_query(conn, "DeviceInfo | summarize n = count() | render table", us(NOW)).rows
    assert rows == [{"n": len(run_query(conn, "DeviceInfo", us(NOW)).rows)}]
    with pytest.raises(KqlSemanticError, match="'render' operator must be the last"):
        run_query(conn, "DeviceInfo | render table | take 1", us(NOW))


def test_two_queries_without_a_semicolon_name_the_line(conn: Any) -> None:
    with pytest.raises(KqlSyntaxError) as err:
        run_query(conn, "let x = 1\nDeviceInfo | take 1", us(NOW))
    assert err.value.line == 2


def test_externaldata_serves_registered_rows(conn: Any) -> None:
    url = "https://example.org/iocs.csv"
    rows = {url: [["203.0.113.10", "c2"], ["198.51.100.7", "scanner"]]}
    q = f'externaldata(ip: string, kind: string) [@"{url}"] with (format="csv") | where kind == "c2"'
    assert run_query(conn, q, us(NOW), external=rows.get).rows == [{"ip": "203.0.113.10", "kind": "c2"}]
    assert run_query(conn, q.replace(url, "https://example.org/other"), us(NOW), external=rows.get).rows == []
