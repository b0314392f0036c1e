"""Pure pieces without HTTP: the vocabulary mapping and the Graph OData and body parsers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mdekit.catalog import GRAPH_DETERMINATIONS, INCIDENT_DETERMINATIONS
from mdekit.emulator.defender.odata import Field
from mdekit.emulator.graph import Collection, GraphError, Writable, check_body, parse_query
from mdekit.emulator.incidents.vocab import (
    DETERMINATION_ALIASES,
    VocabularyError,
    from_graph,
    graph_case_sql,
    to_graph,
)

COLL = Collection(
    name="things",
    type_name="microsoft.graph.thing",
    fields={
        "status": Field(graph_case_sql("status", "status"), "enum", ("active", "resolved")),
        "n": Field("n", "int"),
    },
    order={"createdDateTime": "created"},
    default_order="created DESC",
    max_top=50,
    page_size=20,
    expand=("alerts",),
    properties=("status", "name"),
)


def test_stored_values_map_to_graph_and_back() -> None:
    assert to_graph("severity", "UnSpecified") == "unknown" and to_graph("severity", "High") == "high"
    assert to_graph("classification", None) == "unknown" and to_graph("status", "InProgress") == "inProgress"
    assert to_graph("determination", "NotAvailable") == "unknown"
    for alias, stored in DETERMINATION_ALIASES.items():
        assert to_graph("determination", alias) == to_graph("determination", stored)
    for stored in INCIDENT_DETERMINATIONS[1:]:
        graph = to_graph("determination", stored)
        assert graph in GRAPH_DETERMINATIONS
        assert from_graph("determination", graph.upper(), INCIDENT_DETERMINATIONS[1:]) == stored
    assert (
        from_graph("determination", "notEnoughDataToValidate", INCIDENT_DETERMINATIONS[1:])
        == "InsufficientData"
    )
    assert from_graph("classification", "unknown", ("TruePositive",)) is None
    for bad in ("apt", "securityPersonnel", "unknownFutureValue", "sleeping"):
        with pytest.raises(VocabularyError):
            from_graph("determination", bad, INCIDENT_DETERMINATIONS[1:])


def test_case_sql_gives_every_stored_value_its_graph_spelling() -> None:
    db = sqlite3.connect(":memory:")
    for kind, values in (
        ("status", ("New", "Active", "InProgress", "Resolved", "Redirected")),
        ("severity", ("UnSpecified", "Informational", "Low", "Medium", "High")),
        ("classification", ("TruePositive", "FalsePositive", None)),
        ("determination", (*INCIDENT_DETERMINATIONS[1:], *DETERMINATION_ALIASES, None)),
    ):
        for value in values:
            got = db.execute(f"SELECT {graph_case_sql('?', kind)}", (value,)).fetchone()[0]
            assert got == to_graph(kind, value), (kind, value)


def test_graph_query_options() -> None:
    q = parse_query({"$filter": "status eq 'RESOLVED'", "$top": "5", "$skip": "3", "$count": "true"}, COLL)
    assert q.params == ["resolved"] and (q.limit, q.offset, q.count) == (5, 3, True)
    assert q.order_sql == "created DESC, n DESC"
    q = parse_query({"$orderby": "createdDateTime asc", "$expand": "ALERTS", "$select": "status"}, COLL)
    assert q.order_sql == "created ASC, n DESC" and q.expand == {"alerts"} and q.select == ("status",)
    assert parse_query({}, COLL).limit == 20
    assert parse_query({"plain": "ignored"}, COLL).limit == 20
    for bad in (
        {"$top": "51"},
        {"$top": "0"},
        {"$top": "²"},
        {"$skip": "-1"},
        {"$skip": "99999999999"},
        {"$filter": "status eq 'gone'"},
        {"$filter": "name eq 'x'"},
        {"$orderby": "status"},
        {"$orderby": "createdDateTime sideways"},
        {"$expand": "evidence"},
        {"$select": "secret"},
        {"$count": "yes"},
        {"$search": "x"},
        {"$skiptoken": "eyJ"},
    ):
        with pytest.raises(GraphError) as info:
            parse_query(bad, COLL)
        assert (info.value.status, info.value.code) == (400, "BadRequest"), bad


def test_graph_bodies() -> None:
    writable = {"status": Writable(convert=str.upper), "tags": Writable("strings", nullable=False)}
    assert check_body(
        {"status": "a", "@odata.type": "#Microsoft.Graph.Thing"}, "microsoft.graph.thing", writable
    ) == {"status": "A"}
    assert check_body({"status": None}, "t", writable) == {"status": None}
    for body in (
        {"Status": "a"},
        {"tags": None},
        {"tags": [1]},
        {"status": 5},
        {"@odata.type": "#x"},
        {"id": "1"},
    ):
        with pytest.raises(GraphError):
            check_body(body, "microsoft.graph.thing", writable, readable=("id",))


def test_a_data_file_from_before_incidents_gets_them_once(tmp_path: Path) -> None:
    from mdekit.emulator.defender.seed import seed_tenant
    from mdekit.emulator.state import EmulatorState

    state = EmulatorState.open(tmp_path / "old.db")
    tid = state.directory.create_tenant("Old").id
    seed_tenant(state.defender, tid, machines=5, alerts=40, seed=3)
    seeded = state.defender.incidents.page(tid, "", [], "id", 0, 100)[0]
    with state.db.tx() as c:  # what an earlier emulator's file looks like: alerts name incidents, no records
        c.execute("DELETE FROM def_incidents")
        c.execute("DELETE FROM meta WHERE key = 'incidents_layout'")
    state.close()
    reopened = EmulatorState.open(tmp_path / "old.db")
    try:
        rebuilt = reopened.defender.incidents.page(tid, "", [], "id", 0, 100)[0]
        assert rebuilt == seeded and len(seeded) > 10  # derived from the alerts by the seed's rules
    finally:
        reopened.close()
