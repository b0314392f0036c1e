"""Column names, order and types of every hunting table, exactly as Microsoft's schema pages give
them, and values of the JSON type each column type implies, in the MDE and the Graph answers.

The fixture ``fixtures/schema_tables.json`` is the column table of each table's page in
github.com/MicrosoftDocs/defender-docs (``defender-xdr/advanced-hunting-<table>-table.md``), copied
by hand with the page's commit and ``ms.date``; the pages spell the boolean type both ``boolean``
and ``bool`` (KQL aliases), kept as written.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mdekit.catalog import GRAPH, MDE
from mdekit.emulator.hunting.tables import SCHEMA_TYPE, TABLES

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "schema_tables.json").read_text())
DOCUMENTED: dict[str, list[tuple[str, str]]] = {
    name: [tuple(column.split()) for column in table["columns"]]  # type: ignore[misc]
    for name, table in FIXTURE["tables"].items()
}
#: KQL's type aliases, as the pages use them, to the emulator's spelling.
ALIAS = {"boolean": "bool", "double": "real", "int32": "int", "int64": "long", "date": "datetime"}
#: String columns the pages describe as holding JSON (arrays or objects as text).
JSON_TEXT = {
    "LoggedOnUsers", "AdditionalFields", "ConnectedNetworks", "DnsAddresses", "DefaultGateways",
    "IPAddresses", "CrlDistributionPointUrls", "Categories",
}  # fmt: skip


def _kql(kind: str) -> str:
    return ALIAS.get(kind, kind)


def test_the_fixture_covers_every_table_the_emulator_serves() -> None:
    assert set(DOCUMENTED) == set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_columns_and_types_are_the_schema_pages(table: str) -> None:
    documented = [(name, _kql(kind)) for name, kind in DOCUMENTED[table]]
    assert TABLES[table] == documented, FIXTURE["tables"][table]["page"]


def _check_value(table: str, column: str, kind: str, value: Any) -> None:
    where = f"{table}.{column} ({kind}): {value!r}"
    if kind == "string":
        assert isinstance(value, str), where  # KQL strings are never null: '' instead
        if column in JSON_TEXT and value:
            assert isinstance(json.loads(value), list | dict), where
        return
    if value is None:
        return
    if kind in ("long", "int"):
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "real":
        assert isinstance(value, int | float) and not isinstance(value, bool), where
    elif kind == "bool":
        assert isinstance(value, bool), where
    elif kind == "datetime":
        assert isinstance(value, str) and value.endswith("Z"), where
        datetime.fromisoformat(value[:19])
    elif kind == "dynamic":
        assert isinstance(value, list | dict), where
    else:
        raise AssertionError(f"unexpected column type {where}")


@pytest.mark.socket
def test_served_schema_and_values_have_the_documented_types(
    make_app: Callable[..., Any], control: httpx.Client
) -> None:
    graph_role = {"resource": GRAPH.identifier_uris[0], "role": "ThreatHunting.Read.All"}
    app = make_app(permissions=["AdvancedQuery.Read.All", graph_role])
    seeded = control.post(
        f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 8, "alerts": 30, "seed": 7}
    )
    assert seeded.status_code == 200, seeded.text  # alerts and TVM data too
    mde_headers = app.headers(MDE.identifier_uris[0])
    graph_headers = app.headers(GRAPH.identifier_uris[0])
    empty = []
    tls = ssl.create_default_context(cafile=str(app["caCert"]))
    with httpx.Client(base_url=app["url"], verify=tls, timeout=120) as http:
        for table, columns in TABLES.items():
            body = {"Query": f"{table} | take 40"}
            mde = http.post("/api/advancedqueries/run", json=body, headers=mde_headers)
            graph = http.post("/v1.0/security/runHuntingQuery", json=body, headers=graph_headers)
            assert mde.status_code == graph.status_code == 200, (table, mde.text[:300], graph.text[:300])
            wanted = [{"Name": name, "Type": SCHEMA_TYPE[kind]} for name, kind in columns]
            assert mde.json()["Schema"] == wanted, table
            assert graph.json()["schema"] == [{"name": c["Name"], "type": c["Type"]} for c in wanted], table
            for rows in (mde.json()["Results"], graph.json()["results"]):
                for row in rows:
                    assert list(row) == [name for name, _ in columns], table
                    for name, kind in columns:
                        _check_value(table, name, kind, row[name])
            if not mde.json()["Results"]:
                empty.append(table)
    assert empty == [], f"no rows to check in {empty}"
