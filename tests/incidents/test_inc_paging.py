"""Paging past the page limits: XDR ``$top``/``$skip`` (≤ 100) and Graph ``@odata.nextLink`` with
``$skiptoken`` (50 incidents, 2,000 alerts a page), with filters, counts and orders kept."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from incident_helpers import Sec, follow

from mdekit.emulator.clock import parse_time


def _incident_count(sec: Sec) -> int:
    reply = sec.control.get(f"/_emulator/tenants/{sec.tenant}/defender")
    return int(reply.json()["incidents"])


def test_xdr_pages_of_100_most_recent_first(big: Sec) -> None:
    total = _incident_count(big)
    assert total > 100
    pages = follow(big.xdr, "/api/incidents")
    assert [len(p["value"]) for p in pages] == [100, total - 100]
    link = urlsplit(pages[0]["@odata.nextLink"])
    assert parse_qs(link.query) == {"$skip": ["100"]}
    ids = [i["incidentId"] for p in pages for i in p["value"]]
    assert len(set(ids)) == total
    created = [i["createdTime"] for p in pages for i in p["value"]]
    assert created == sorted(created, reverse=True)
    manual = [
        i["incidentId"]
        for skip in range(0, total, 30)
        for i in big.xdr.get(f"/api/incidents?$top=30&$skip={skip}").json()["value"]
    ]
    assert manual == ids  # $top/$skip pages: same order, no nextLink with $top
    assert "@odata.nextLink" not in big.xdr.get("/api/incidents?$top=100").json()
    too_many = big.xdr.get("/api/incidents?$top=101")
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "ODataError"


def test_xdr_filters_on_the_documented_properties(big: Sec) -> None:
    everything = [i for p in follow(big.xdr, "/api/incidents") for i in p["value"]]
    active = [i for p in follow(big.xdr, "/api/incidents?$filter=status eq 'Active'") for i in p["value"]]
    assert active and {i["status"] for i in active} == {"Active"}
    assert len(active) == sum(i["status"] == "Active" for i in everything)
    middle = sorted(i["lastUpdateTime"] for i in everything)[len(everything) // 2]
    newer = big.xdr.get(f"/api/incidents?$filter=lastUpdateTime ge {middle}&$top=100").json()["value"]
    assert newer and all(i["lastUpdateTime"] >= middle for i in newer)
    assigned = big.xdr.get("/api/incidents?$filter=assignedTo eq 'secops@contoso.com'").json()["value"]
    assert assigned and {i["assignedTo"] for i in assigned} == {"secops@contoso.com"}


def test_graph_incidents_follow_skiptoken_links_to_the_end(big: Sec) -> None:
    total = _incident_count(big)
    pages = follow(big.graph, "/v1.0/security/incidents?$count=true&$filter=severity ne 'informational'")
    assert len(pages) > 2 and all(len(p["value"]) == 50 for p in pages[:-1])
    counted = pages[0]["@odata.count"]
    seen = [i["id"] for p in pages for i in p["value"]]
    assert len(seen) == len(set(seen)) == counted < total
    assert all(i["severity"] != "informational" for p in pages for i in p["value"])
    query = parse_qs(urlsplit(pages[0]["@odata.nextLink"]).query)
    assert set(query) == {"$count", "$filter", "$skiptoken"} and query["$filter"] == [
        "severity ne 'informational'"
    ]
    assert pages[0]["@odata.context"].endswith("/v1.0/$metadata#security/incidents")
    # the token belongs to its query: reused with another filter it is refused
    token = query["$skiptoken"][0]
    reused = big.graph.get(f"/v1.0/security/incidents?$filter=status eq 'active'&$skiptoken={token}")
    assert reused.status_code == 400 and reused.json()["error"]["code"] == "BadRequest"


def test_graph_top_is_the_page_size_and_skip_starts_later(big: Sec) -> None:
    everything = [i["id"] for p in follow(big.graph, "/v1.0/security/incidents") for i in p["value"]]
    pages = follow(big.graph, "/v1.0/security/incidents?$top=7&$skip=10")
    assert all(len(p["value"]) == 7 for p in pages[:-1])
    assert [i["id"] for p in pages for i in p["value"]] == everything[10:]
    oldest_first = follow(big.graph, "/v1.0/security/incidents?$orderby=createdDateTime asc&$top=50")
    created = [i["createdDateTime"] for p in oldest_first for i in p["value"]]
    assert created == sorted(created) and len(created) == len(everything)


def test_graph_alerts_default_page_is_2000_then_a_skiptoken(sec: Sec) -> None:
    sec.seed(40, 2150)
    pages = follow(sec.graph, "/v1.0/security/alerts_v2")
    assert [len(p["value"]) for p in pages] == [2000, 150]
    assert "$skiptoken=" in pages[0]["@odata.nextLink"] and "@odata.nextLink" not in pages[1]
    ids = [a["id"] for p in pages for a in p["value"]]
    assert len(set(ids)) == 2150
    created = [a["createdDateTime"] for p in pages for a in p["value"]]
    assert created == sorted(created, reverse=True)  # most recent first
    too_big = sec.graph.get("/v1.0/security/alerts_v2?$top=2001")
    assert too_big.status_code == 400


def test_graph_alert_filters_and_expanded_incidents(sec: Sec) -> None:
    high = [
        a
        for p in follow(sec.graph, "/v1.0/security/alerts_v2?$filter=severity eq 'high'")
        for a in p["value"]
    ]
    assert high and {a["severity"] for a in high} == {"high"}
    mde_high = sec.mde.get("/api/alerts?$filter=severity eq 'High'").json()["value"]
    assert {a["id"] for a in high} == {a["id"] for a in mde_high}
    source = sec.graph.get(
        "/v1.0/security/alerts_v2?$filter=serviceSource eq 'microsoftDefenderForEndpoint'&$count=true"
    )
    assert source.json()["@odata.count"] == 150
    untriaged = sec.graph.get(
        "/v1.0/security/alerts_v2?$filter=classification eq 'unknown'&$count=true"
    ).json()
    assert untriaged["@odata.count"] == sum(
        a["classification"] is None for a in sec.mde.get("/api/alerts").json()["value"]
    )
    expanded = sec.graph.get("/v1.0/security/incidents?$expand=alerts&$top=5").json()
    assert expanded["@odata.context"].endswith("$metadata#security/incidents(alerts())")
    for incident in expanded["value"]:
        assert incident["alerts"] and {a["incidentId"] for a in incident["alerts"]} == {incident["id"]}
    plain = sec.graph.get("/v1.0/security/incidents?$top=5").json()["value"]
    assert all("alerts" not in i for i in plain)
    selected = sec.graph.get("/v1.0/security/incidents?$top=2&$select=status,severity").json()["value"]
    assert all(set(i) == {"@odata.type", "id", "status", "severity"} for i in selected)


def test_xdr_count_and_orderby(sec: Sec) -> None:
    total = _incident_count(sec)
    assert sec.xdr.get("/api/incidents/$count").text == str(total)
    body = sec.xdr.get("/api/incidents?$count=true&$top=3").json()
    assert body["@odata.count"] == total and len(body["value"]) == min(3, total)
    active = sec.xdr.get("/api/incidents/$count?$filter=status eq 'Active'").text
    listed = [i for p in follow(sec.xdr, "/api/incidents") for i in p["value"]]
    assert int(active) == sum(i["status"] == "Active" for i in listed)
    oldest_first = sec.xdr.get("/api/incidents?$orderby=lastUpdateTime asc&$top=100").json()["value"]
    times = [parse_time(i["lastUpdateTime"]) for i in oldest_first]
    assert len(set(times)) > 1 and times == sorted(times)
