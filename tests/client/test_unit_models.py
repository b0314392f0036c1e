"""Models: snake_case over camelCase, unknown fields kept, odd values never fatal (records and pages)."""

from __future__ import annotations

import gc
import json
from datetime import datetime

import pytest

from mdekit.client.base import parse_page
from mdekit.client.core import Reply
from mdekit.client.indicators import indicator_body
from mdekit.errors import ApiError
from mdekit.models import Alert, Indicator, MachineAction


def test_aliases_extra_fields_and_wire_round_trip() -> None:
    a = Alert.model_validate(
        {
            "id": "da1",
            "computerDnsName": "pc1",
            "brandNewField": {"x": 1},
            "alertCreationTime": "2024-01-02T13:39:46.7738206Z",
        }
    )
    assert a.computer_dns_name == "pc1" and a.model_extra == {"brandNewField": {"x": 1}}
    assert isinstance(a.alert_creation_time, datetime) and a.alert_creation_time.microsecond == 773820
    wire = a.to_wire()
    assert wire["computerDnsName"] == "pc1" and wire["brandNewField"] == {"x": 1}


def test_bad_values_are_set_aside_not_fatal() -> None:
    a = Alert.model_validate(
        {"id": "da1", "incidentId": "not-a-number", "relatedUser": "odd", "lastUpdateTime": "yesterday"}
    )
    assert a.incident_id is None and a.related_user is None
    assert a.model_extra == {"incidentId": "not-a-number", "relatedUser": "odd"}
    assert a.last_update_time == "yesterday"  # unparseable times stay as text


def test_page_with_an_odd_record_falls_back_per_item() -> None:
    good = {"id": "a", "severity": "High"}
    odd = {"id": "b", "incidentId": {"nested": True}}
    body = {"@odata.context": "x", "value": [good, odd], "@odata.nextLink": "https://h/api/alerts?$skip=2"}
    items, env = parse_page(Reply(200, {}, json.dumps(body).encode()), Alert)
    assert [i.id for i in items] == ["a", "b"] and items[1].model_extra == {"incidentId": {"nested": True}}
    assert env["@odata.nextLink"].endswith("$skip=2")
    fast, env2 = parse_page(Reply(200, {}, json.dumps({"value": [good]}).encode()), Alert)
    assert fast[0].severity == "High" and "@odata.nextLink" not in env2


def test_machine_action_fields_and_indicator_body() -> None:
    act = MachineAction.model_validate(
        {"id": "g", "type": "Isolate", "status": "Succeeded", "errorHResult": 0}
    )
    assert act.is_terminal and act.error_h_result == 0 and not act.reused
    body = indicator_body(
        {
            "indicator_value": "1.2.3.4",
            "indicatorType": "IpAddress",
            "action": "Block",
            "title": "t",
            "description": "d",
            "external_id": "X1",
            "createdBy": "me",
        }
    )
    assert body == {
        "indicatorValue": "1.2.3.4",
        "indicatorType": "IpAddress",
        "action": "Block",
        "title": "t",
        "description": "d",
        "externalID": "X1",
    }
    assert indicator_body(Indicator(indicator_value="x", indicator_type="Url"))["indicatorType"] == "Url"
    # answers spell it externalId (a real capture), the docs table externalID: both are read
    assert Indicator.model_validate({"externalId": "A"}).external_id == "A"
    assert Indicator.model_validate({"externalID": "B"}).external_id == "B"


def test_malformed_page_bytes_are_an_api_error_and_gc_state_is_kept() -> None:
    page = json.dumps({"value": [{"id": "a"}, {"id": "b"}]}).encode()
    for bad in (page[:-7], b"\xff" + page, b"", b"[1, 2]", b'{"value": 3}'):
        with pytest.raises(ApiError) as info:
            parse_page(Reply(200, {}, bad), Alert)
        assert info.value.status == 200 and info.value.__cause__ is None
    assert gc.isenabled()  # re-enabled after the fast path failed
    gc.disable()
    try:
        items, _ = parse_page(Reply(200, {}, page), Alert)
        assert [i.id for i in items] == ["a", "b"]
        assert not gc.isenabled()  # a caller's own gc.disable() is left alone
    finally:
        gc.enable()
