"""OData query options on every MDE list: $select, $orderby, $count / ``/$count``, any/all and ``in``.

Each case asserts on what a client sees (status, body, content type), through the app's routes.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from defender_helpers import Api

from mdekit.catalog import MDE, OPERATIONS

_PADDED_TIME = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*0|\.)Z"')
#: Every MDE list that has a ``/$count`` segment (the catalogue's ``*.count`` operations).
LISTS = sorted(
    op.path.removesuffix("/$count")
    for name, op in OPERATIONS.items()
    if name.endswith("count") and op.path.endswith("/$count") and op.resource == MDE.name
)


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def _seed_actions_and_indicators(api: Api) -> None:
    """Lists that start empty get an item or two, so every list has something to select and count."""
    machine = api.get("/api/machines?$top=1").json()["value"][0]
    api.post(f"/api/machines/{machine['id']}/runAntiVirusScan", {"Comment": "odata"})
    for value in ("odata-1.example", "odata-2.example"):
        body = {
            "indicatorValue": value,
            "indicatorType": "DomainName",
            "action": "Alert",
            "title": value,
            "description": "d",
        }
        assert api.post("/api/indicators", body).status_code == 200


def test_every_list_is_covered() -> None:
    assert len(LISTS) >= 10 and "/api/alerts" in LISTS and "/api/Software" in LISTS


@pytest.mark.parametrize("path", LISTS)
def test_select_count_and_count_segment_on_every_list(api: Api, path: str) -> None:
    _seed_actions_and_indicators(api)
    if "{id}" in path:  # a machine's alerts: a machine that has some
        alert = api.get("/api/alerts?$top=1").json()["value"][0]
        path = path.replace("{id}", alert["machineId"])
    answer = api.get(f"{path}?$count=true")
    full = _ok(answer)
    # times as .NET writes them: no trailing zeros in a fraction (nor a bare "." before Z)
    assert not _PADDED_TIME.search(answer.text), _PADDED_TIME.search(answer.text)
    items = full["value"]
    assert items, path
    # $count=true: @odata.count before value, the number of matching items (every page together)
    assert list(full)[:3] == ["@odata.context", "@odata.count", "value"]
    assert full["@odata.count"] >= len(items)
    counted = api.get(f"{path}/$count")
    assert counted.status_code == 200 and counted.headers["content-type"].startswith("text/plain")
    assert int(counted.text) == full["@odata.count"]
    # $select: only the named properties, in the entity's own order whatever order they were asked in;
    # the context names them as asked (a real answer, anchor A13)
    keys = list(items[0])
    wanted = [keys[-1], keys[0]]
    selected = _ok(api.get(f"{path}?$select={','.join(wanted)}"))
    assert selected["@odata.context"].endswith(f"({','.join(wanted)})")
    assert all(list(item) == [keys[0], keys[-1]] for item in selected["value"])
    # an unknown property is a 400 ODataError that names it
    bad = api.get(f"{path}?$select={keys[0]},noSuchProperty")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "ODataError"
    assert "noSuchProperty" in bad.json()["error"]["message"]


def test_count_segment_filters_and_the_documented_example(api: Api) -> None:
    alerts = _ok(api.get("/api/alerts?$top=10000"))["value"]
    high = sum(a["severity"] == "High" for a in alerts)
    r = api.get("/api/alerts/$count?$filter=severity eq 'High'")
    assert r.status_code == 200 and r.text == str(high)
    # $top/$skip do not change a count (OData 4.0 §11.2.9)
    assert api.get("/api/alerts/$count?$top=1").text == str(len(alerts))
    body = _ok(api.get("/api/alerts?$count=true&$top=3&$filter=severity eq 'High'"))
    assert body["@odata.count"] == high and len(body["value"]) == min(3, high)
    assert api.get("/api/alerts?$count=yes").json()["error"]["code"] == "ODataError"


@pytest.mark.parametrize(
    ("path", "prop", "keys"),
    [
        ("/api/machines", "lastSeen", ("lastSeen desc", "lastSeen")),
        ("/api/alerts", "alertCreationTime", ("alertCreationTime desc", "alertCreationTime asc")),
        ("/api/vulnerabilities", "cvssV3", ("cvssV3 desc", "cvssV3")),
        ("/api/vulnerabilities/machinesVulnerabilities", "productName", ("productName desc", "productName")),
    ],
)
def test_orderby_sorts_both_ways(api: Api, path: str, prop: str, keys: tuple[str, str]) -> None:
    down = [i[prop] for i in _ok(api.get(f"{path}?$orderby={keys[0]}&$top=8000"))["value"]]
    up = [i[prop] for i in _ok(api.get(f"{path}?$orderby={keys[1]}&$top=8000"))["value"]]
    present = [v for v in down if v is not None]
    assert len(set(present)) > 1, "the seed must give the property several values"
    assert present == sorted(present, reverse=True)
    assert [v for v in up if v is not None] == sorted(present)


def test_orderby_several_keys_and_errors(api: Api) -> None:
    items = _ok(api.get("/api/machines?$orderby=healthStatus asc,computerDnsName desc&$top=10000"))["value"]
    pairs = [(m["healthStatus"], m["computerDnsName"]) for m in items]
    for (h1, n1), (h2, n2) in itertools.pairwise(pairs):
        assert h1 < h2 or (h1 == h2 and n1 >= n2), (h1, n1, h2, n2)
    bad = api.get("/api/machines?$orderby=nope")
    assert bad.status_code == 400 and "'nope'" in bad.json()["error"]["message"]
    bad = api.get("/api/machines?$orderby=lastSeen sideways")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "ODataError"


def test_lambda_any_all_and_in(api: Api) -> None:
    machines = _ok(api.get("/api/machines?$top=10000"))["value"]
    tagged = machines[0]
    tag = "odata-lambda"
    assert api.post(f"/api/machines/{tagged['id']}/tags", {"Value": tag, "Action": "Add"}).status_code == 200
    # the docs' own example
    found = _ok(api.get(f"/api/machines?$filter=machineTags/any(tag: tag eq '{tag}')"))["value"]
    assert [m["id"] for m in found] == [tagged["id"]]
    untagged = _ok(api.get("/api/machines?$filter=not machineTags/any()&$top=10000"))["value"]
    assert {m["id"] for m in untagged} == {m["id"] for m in machines if not m["machineTags"]} - {tagged["id"]}
    every = _ok(api.get(f"/api/machines?$filter=machineTags/all(t: t eq '{tag}')&$top=10000"))["value"]
    # all() is true for an empty collection, as in OData
    assert tagged["id"] in {m["id"] for m in every}
    assert all(all(t == tag for t in m["machineTags"]) for m in every)
    listed = _ok(api.get("/api/machines?$filter=healthStatus in ('Active','Inactive')&$top=10000"))["value"]
    assert {m["id"] for m in listed} == {
        m["id"] for m in machines if m["healthStatus"] in ("Active", "Inactive")
    }
    bad = api.get("/api/machines?$filter=healthStatus/any(t: t eq 'Active')")
    assert bad.status_code == 400 and "not a collection" in bad.json()["error"]["message"]


def test_requests_third_party_tools_send(api: Api) -> None:
    """Queries copied from public client code and Microsoft's samples, sent as those tools send them."""
    machine = _ok(api.get("/api/machines?$top=1"))["value"][0]
    name = machine["computerDnsName"]
    # public client code in several languages: find a machine's id by name
    found = _ok(api.get(f"/api/machines?$filter=computerDnsName eq '{name}'&$select=id"))
    assert found["value"] == [{"id": machine["id"]}]
    # '+' for spaces and an unquoted time (exposed-apis-odata-samples)
    recent = api.get("/api/alerts?$filter=lastUpdateTime+ge+2019-11-22T00:00:00Z&$top=5")
    assert recent.status_code == 200 and len(recent.json()["value"]) == 5
    # a property name in another case, as the samples write them
    same = _ok(api.get(f"/api/machines?$filter=ComputerDnsName eq '{name}'&$select=Id,ComputerDnsName"))
    assert same["value"] == [{"id": machine["id"], "computerDnsName": name}]
    ordered = _ok(api.get("/api/alerts?$orderby=alertCreationTime desc&$top=2&$select=id,alertCreationTime"))
    assert [list(a) for a in ordered["value"]] == [["id", "alertCreationTime"]] * 2
