"""Indicators: submit-or-update, per-app visibility, import results, delete and batch delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from defender_helpers import Api

#: An indicator's keys in a real 2023 list answer ([FS:14195078262]): ``externalId``, not the docs
#: table's ``externalID``; no ``source``/``sourceType``.
REAL_KEYS = [
    "id", "indicatorValue", "indicatorType", "action", "createdBy", "severity", "category",
    "application", "educateUrl", "bypassDurationHours", "title", "description", "recommendedActions",
    "creationTimeDateTimeUtc", "expirationTime", "lastUpdateTime", "lastUpdatedBy", "rbacGroupNames",
    "rbacGroupIds", "notificationId", "notificationBody", "version", "mitreTechniques",
    "historicalDetection", "lookBackPeriod", "generateAlert", "additionalInfo", "createdByDisplayName",
    "externalId", "createdBySource", "certificateInfo",
]  # fmt: skip


def _ind(value: str, itype: str = "FileSha1", **kw: Any) -> dict[str, Any]:
    return {
        "indicatorValue": value,
        "indicatorType": itype,
        "action": "Block",
        "title": "t",
        "description": "d",
        **kw,
    }


def test_submit_update_and_visibility(api_for: Callable[..., Api], tenant: str) -> None:
    own = api_for(tenant, ["Ti.ReadWrite"], name="app one")
    other = api_for(tenant, ["Ti.ReadWrite"], name="app two")
    admin = api_for(tenant, ["Ti.ReadWrite.All"], name="admin")
    r = own.post("/api/indicators", _ind("a" * 40, severity="High"))
    assert r.status_code == 200
    first = r.json()
    assert first["@odata.context"].endswith("#Indicators/$entity")
    assert list(first)[1:] == REAL_KEYS
    assert (first["createdByDisplayName"], first["createdBySource"], first["severity"]) == (
        "app one",
        "PublicApi",
        "High",
    )
    again = own.post("/api/indicators", _ind("A" * 40, action="Warn")).json()
    assert again["id"] == first["id"] and again["action"] == "Warn" and again["severity"] == "High"
    other.post("/api/indicators", _ind("evil.example", "DomainName"))
    assert [i["indicatorValue"].lower() for i in own.get("/api/indicators").json()["value"]] == ["a" * 40]
    assert len(admin.get("/api/indicators").json()["value"]) == 2
    assert other.post("/api/indicators", _ind("a" * 40)).status_code == 403
    assert other.delete(f"/api/indicators/{first['id']}").status_code == 404
    filtered = admin.get("/api/indicators?$filter=indicatorType eq 'DomainName'").json()["value"]
    assert [i["indicatorValue"] for i in filtered] == ["evil.example"]
    assert own.delete(f"/api/indicators/{first['id']}").status_code == 204
    assert own.delete(f"/api/indicators/{first['id']}").status_code == 404


def test_bad_indicators(api_for: Callable[..., Api], tenant: str) -> None:
    api = api_for(tenant, ["Ti.ReadWrite.All"])
    cases = [
        (_ind("xyz"), "InvalidHashValue"),
        (_ind("10.0.0.0/8", "IpAddress"), "InvalidIpAddress"),
        (_ind("not a domain", "DomainName"), "InvalidDomainName"),
        (_ind("a" * 40, action="Audit"), "InvalidInput"),
        (_ind("a" * 40, indicatorType="FileSha512"), "InvalidInput"),
        ({**_ind("a" * 40), "Title": "x"}, "InvalidRequestBody"),
        ({k: v for k, v in _ind("a" * 40).items() if k != "description"}, "MissingRequiredParameter"),
    ]
    for body, code in cases:
        r = api.post("/api/indicators", body)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (body, r.text)


def test_import_and_batch_delete(api_for: Callable[..., Api], tenant: str) -> None:
    api = api_for(tenant, ["Ti.ReadWrite.All"])
    r = api.post(
        "/api/indicators/import", {"Indicators": [_ind("b" * 40), _ind("bad"), _ind("1.2.3.4", "IpAddress")]}
    )
    assert r.status_code == 200
    results = r.json()["value"]
    assert [x["isFailed"] for x in results] == [False, True, False]
    assert "invalid" in results[1]["failureReason"] and results[1]["indicator"] == "bad"
    ids = [x["id"] for x in results if not x["isFailed"]]
    r = api.post("/api/indicators/import", {"Indicators": [_ind("c" * 40)] * 501})
    assert r.json()["error"]["code"] == "MaximumBatchSizeExceeded"
    assert api.post("/api/indicators/BatchDelete", {"IndicatorIds": [*ids, "999999"]}).status_code == 404
    assert len(api.get("/api/indicators").json()["value"]) == 2  # nothing deleted on a partial miss
    assert api.post("/api/indicators/BatchDelete", {"IndicatorIds": ids}).status_code == 204
    assert api.get("/api/indicators").json()["value"] == []
    assert api.post("/api/indicators/BatchDelete", {"IndicatorIds": []}).status_code == 400


def test_documented_fields_group_names_and_external_id(api_for: Callable[..., Api], tenant: str) -> None:
    api = api_for(tenant, ["Ti.ReadWrite.All"])
    body = _ind(
        "b" * 40,
        category=2,
        mitreTechniques=["T1059"],
        historicalDetection=True,
        lookBackPeriod="P30D",
        externalID="ticket-7",  # the docs table's spelling
        rbacGroupNames="Servers, Servers ,",  # the docs' comma-separated string
        application="app-1",
    )
    created = api.post("/api/indicators", body).json()
    assert (created["category"], created["mitreTechniques"], created["historicalDetection"]) == (
        2,
        ["T1059"],
        True,
    )
    assert created["externalId"] == "ticket-7" and "externalID" not in created
    assert created["rbacGroupNames"] == ["Servers"] and created["rbacGroupIds"] == ["2"]
    assert created["lookBackPeriod"] == "P30D"
    # an array works as well; a read answer sent back (read-only fields included) is accepted
    sent_back = {k: v for k, v in created.items() if not k.startswith("@")}
    again = api.post("/api/indicators", {**sent_back, "rbacGroupNames": [], "application": "app-2"})
    assert again.status_code == 200, again.text
    updated = again.json()
    assert updated["id"] == created["id"] and updated["rbacGroupNames"] == []
    # application is set at creation only (post-ti-indicator: "doesn't update the value")
    assert updated["application"] == "app-1"
    bad = api.post("/api/indicators", _ind("c" * 40, rbacGroupNames=[1, 2]))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidInput"
    assert "comma-separated" in bad.json()["error"]["message"]
