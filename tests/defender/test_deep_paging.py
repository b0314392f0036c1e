"""Issue 19: every page of a big list by ``@odata.nextLink`` (a keyset ``$skiptoken``, with
``$orderby`` too) and by an explicit ``$skip``, exact after inserts, updates and deletes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from defender_helpers import Api

from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState

HOST = "https://api.securitycenter.microsoft.com"
#: (property, descending) keys for each ``$orderby`` tried; NOCASE columns compare lower-cased.
ORDERS = {
    "alertCreationTime desc": [("alertCreationTime", True)],
    "lastUpdateTime": [("lastUpdateTime", False)],
    "severity": [("severity", False)],
    "severity desc": [("severity", True)],
    "assignedTo desc": [("assignedTo", True)],
    "assignedTo desc,alertCreationTime": [("assignedTo", True), ("alertCreationTime", False)],
    "status,incidentId desc": [("status", False), ("incidentId", True)],
}
_TIMES = {"alertCreationTime", "lastUpdateTime", "creationTimeDateTimeUtc"}
_NOCASE = {"assignedTo", "title"}


def _value(item: dict[str, Any], name: str) -> Any:
    value = item[name]
    if value is None:
        return None
    if name in _TIMES:
        return _time(value)
    return value.lower() if name in _NOCASE else value


def _time(text: str) -> str:
    """A .NET time (``...:08.15824Z``, trailing zeros dropped) in a fixed 7-digit form: text order is
    time order (``parse_time`` keeps microseconds only; the service's times have 100 ns ticks)."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    return f"{whole}.{fraction:0<7}"


def expected_order(items: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[str]:
    """Ids of *items* (given in insertion order) as SQLite orders them: NULLs first ascending, ties
    by insertion order in the last key's direction."""
    position = {item["id"]: i for i, item in enumerate(items)}
    tie_desc = keys[-1][1]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, desc in keys:
            x, y = _value(a, name), _value(b, name)
            if x == y:
                continue
            less = x is None or (y is not None and x < y)
            return (1 if less else -1) if desc else (-1 if less else 1)
        diff = position[a["id"]] - position[b["id"]]
        return -diff if tie_desc else diff

    return [item["id"] for item in sorted(items, key=functools.cmp_to_key(compare))]


def _pages(api: Api, url: str) -> list[dict[str, Any]]:
    """Every item, following ``@odata.nextLink``."""
    out: list[dict[str, Any]] = []
    while url:
        body = api.get(url.replace(HOST, "")).json()
        out.extend(body["value"])
        url = body.get("@odata.nextLink", "")
    return out


@pytest.fixture
def big(api_for: Callable[..., Api], state: EmulatorState, tenant: str) -> Api:
    """A tenant with 10,500 alerts (two pages), and an app reading and writing them."""
    seed_tenant(state.defender, tenant, machines=30, alerts=10_500, seed=5)
    return api_for(tenant, ["Alert.Read.All", "Alert.ReadWrite.All"])


def test_ordered_pages_by_link_and_by_skip_are_the_sorted_list(big: Api) -> None:
    everything = _pages(big, "/api/alerts")
    assert len(everything) == 10_500
    for text, keys in ORDERS.items():
        first = big.get(f"/api/alerts?$orderby={text}").json()
        link = first["@odata.nextLink"]
        assert "$skip=10000" in link and "$skiptoken=" in link, text
        by_link = first["value"] + big.get(link.replace(HOST, "")).json()["value"]
        by_skip = first["value"] + big.get(f"/api/alerts?$orderby={text}&$skip=10000").json()["value"]
        want = expected_order(everything, keys)
        assert [a["id"] for a in by_link] == want, text
        assert [a["id"] for a in by_skip] == want, text


def test_a_filtered_ordered_link_follows_the_filter(big: Api) -> None:
    everything = _pages(big, "/api/alerts")
    since = sorted(everything, key=lambda a: _time(a["alertCreationTime"]))[200]["alertCreationTime"]
    kept = [a for a in everything if _time(a["alertCreationTime"]) > _time(since)]
    query = f"/api/alerts?$filter=alertCreationTime gt {since}&$orderby=lastUpdateTime desc"
    assert len(kept) > 10_000
    assert [a["id"] for a in _pages(big, query)] == expected_order(kept, [("lastUpdateTime", True)])


def test_a_link_continues_after_its_row_when_rows_change(big: Api, state: EmulatorState) -> None:
    """Updates move rows in ``$orderby=lastUpdateTime``: the link's next page is every row after its
    last row in the order as it is now - nothing skipped, nothing stale (``$skip`` would shift)."""
    first = big.get("/api/alerts?$orderby=lastUpdateTime").json()
    cursor = first["value"][-1]["id"]
    state.clock.advance(60)
    moved = [first["value"][5]["id"], first["value"][-3]["id"]]
    for alert_id in moved:
        assert big.patch(f"/api/alerts/{alert_id}", json={"status": "InProgress"}).status_code == 200
    now = expected_order(_pages(big, "/api/alerts"), [("lastUpdateTime", False)])
    page = big.get(first["@odata.nextLink"].replace(HOST, "")).json()["value"]
    assert [a["id"] for a in page] == now[now.index(cursor) + 1 :]
    fresh = {a["id"]: a["status"] for a in page}
    assert [fresh.get(alert_id) for alert_id in moved] == ["InProgress", "InProgress"]  # now after it
    shifted = big.get("/api/alerts?$orderby=lastUpdateTime&$skip=10000").json()["value"]
    assert [a["id"] for a in shifted] == now[10_000:]  # $skip is a position in the list as it is now


def test_an_edited_ordered_link_is_refused(big: Api) -> None:
    link = big.get("/api/alerts?$orderby=severity desc").json()["@odata.nextLink"].replace(HOST, "")
    for bad in (link.replace("severity%20desc", "severity"), link.replace("severity desc", "severity")):
        if bad == link:
            continue
        answer = big.get(bad)
        assert answer.status_code == 400 and "$skiptoken" in answer.json()["error"]["message"]


def _submit(api: Api, i: int, severity: str) -> None:
    body = {
        "indicatorValue": f"{i:040x}",
        "indicatorType": "FileSha1",
        "action": "Alert",
        "title": f"ioc {i}",
        "description": "paging",
        "severity": severity,
    }
    assert api.post("/api/indicators", json=body).status_code == 200


@pytest.mark.parametrize("order", ["", "$orderby=severity desc&", "$orderby=creationTimeDateTimeUtc desc&"])
def test_skip_is_exact_after_inserts_updates_and_deletes(
    api_for: Callable[..., Api], state: EmulatorState, tenant: str, order: str
) -> None:
    api = api_for(tenant, ["Ti.ReadWrite.All"])
    severities = ["Low", "High", "Medium", "Informational"]
    for i in range(24):
        state.clock.advance(1)
        _submit(api, i, severities[i % 4])

    def check(backwards: bool = False) -> None:
        whole = api.get(f"/api/indicators?{order}$top=10000").json()["value"]
        skips = range(0, len(whole) + 5, 5)
        # forwards each page seeks from where the one before ended; backwards after the writes,
        # a position remembered before them would give a shifted page
        for skip in reversed(skips) if backwards else skips:
            page = api.get(f"/api/indicators?{order}$skip={skip}&$top=5").json()["value"]
            assert page == whole[skip : skip + 5], (order, skip)

    check()
    ids = [i["id"] for i in api.get("/api/indicators").json()["value"]]
    assert api.post("/api/indicators/BatchDelete", json={"IndicatorIds": ids[3:6]}).status_code == 204
    state.clock.advance(1)
    _submit(api, 7, "High")  # an update: severity and lastUpdateTime change
    for i in range(100, 103):
        _submit(api, i, "Low")
    check(backwards=True)
    check()


def test_indicator_answers_splice_the_stored_json_as_the_dicts_would_be(
    api_for: Callable[..., Api], state: EmulatorState, tenant: str
) -> None:
    """The list splices each stored indicator; ``$select`` of every property builds dicts: the same
    items, keys and order. A record an earlier emulator stored (``externalID``, keys out of order) is
    rewritten to the answer's shape when the data file is opened."""
    from mdekit.emulator.defender.indicators import INDICATOR_KEYS, upgrade

    api = api_for(tenant, ["Ti.ReadWrite.All"])
    for i in range(3):
        _submit(api, i, "Medium")
    with state.db.tx() as c:
        c.execute(
            "UPDATE def_indicators SET data = json_remove(json_set(data, '$.externalID', 'old-1'), "
            "'$.externalId', '$.category') WHERE n = (SELECT MIN(n) FROM def_indicators)"
        )
        c.execute("DELETE FROM meta WHERE key = 'def_indicators_layout'")
    upgrade(state.db)
    spliced = api.get("/api/indicators").json()["value"]
    built = api.get(f"/api/indicators?$select={','.join(INDICATOR_KEYS)}").json()["value"]
    assert spliced == built and all(list(item) == list(INDICATOR_KEYS) for item in spliced)
    assert spliced[0]["externalId"] == "old-1" and spliced[0]["category"] == 1


@pytest.mark.parametrize(
    "order",
    [
        [("a", False)],
        [("a", True)],
        [("a", False), ("b", False)],
        [("a", True), ("b", False)],
        [("a", False), ("b", True)],
        [("b", True), ("a", True)],
    ],
)
def test_the_seek_from_any_row_is_every_row_after_it(order: list[tuple[str, bool]]) -> None:
    """``seek_sql`` against SQLite's own ORDER BY: NULLs, ties, case-insensitive text, any direction."""
    import itertools
    import sqlite3

    from mdekit.emulator.defender.listing import seek_sql

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, a TEXT COLLATE NOCASE, b INTEGER)")
    values = itertools.product([None, "x", "X", "y"], [None, 1, 2])
    db.executemany("INSERT INTO t (a, b) VALUES (?, ?)", [v for v in values for _ in range(2)])
    tie = "n DESC" if order[-1][1] else "n ASC"
    by = ", ".join([*(f"{c} {'DESC' if d else 'ASC'}" for c, d in order), tie])
    rows = db.execute(f"SELECT n, {', '.join(c for c, _ in order)} FROM t ORDER BY {by}").fetchall()
    for i, row in enumerate(rows):
        seek, params, tail = seek_sql(order, tuple(row[1:]), row[0])
        after = db.execute(f"SELECT n FROM t WHERE {seek} ORDER BY {by}", params).fetchall()
        if tail:  # the rows after those (run_list reads them in the same statement)
            after += db.execute(f"SELECT n FROM t WHERE {tail} ORDER BY {by}").fetchall()
        assert [r[0] for r in after] == [r[0] for r in rows[i + 1 :]], (order, row)


@pytest.mark.parametrize("desc", [True, False])
def test_run_list_pages_through_null_sort_keys_by_cursor(
    state: EmulatorState, seeded: str, desc: bool
) -> None:
    """Pages of 7 by cursor through ``assignedTo`` (mostly NULL): the same rows, in the same order,
    as one read of the whole list - across the NULL boundary either way."""
    from mdekit.emulator.defender.listing import ListQuery, run_list

    def page(after: int | None, keys: tuple[Any, ...], size: int) -> tuple[list[Any], ListQuery]:
        query = ListQuery(order=[("assigned_to", desc)], after=after, after_keys=keys)
        rows, _ = run_list(state.db, "def_alerts", seeded, query, columns="n", page_size=size)
        return [r["n"] for r in rows], query

    whole, _ = page(None, (), 10_000)
    got: list[int] = []
    after, keys = None, ()
    while True:
        rows, query = page(after, keys, 7)
        if not rows:
            break
        got += rows
        after, keys = query.last, query.last_keys
    nulls = state.db.query_one("SELECT COUNT(*) c FROM def_alerts WHERE assigned_to IS NULL")["c"]
    assert 0 < nulls < len(whole) == 200 and got == whole
