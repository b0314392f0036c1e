"""Every incidents / Graph security operation over HTTPS, with and without its role, and the
error envelopes and throttling of both APIs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from incident_helpers import ALL_PERMISSIONS, GRAPH_URI, MDE_URI, MTP_URI, Sec

from mdekit.catalog import OPERATIONS, operation
from mdekit.emulator.clock import parse_time

COMMENT = {"@odata.type": "microsoft.graph.security.alertComment", "comment": "looked at it"}
CALLS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "incidents.list": ("/api/incidents", None),
    "incidents.get": ("/api/incidents/{incident}", None),
    "incidents.update": ("/api/incidents/{incident}", {"tags": ["triaged"]}),
    "graph_incidents.list": ("/v1.0/security/incidents", None),
    "graph_incidents.get": ("/v1.0/security/incidents/{incident}", None),
    "graph_incidents.update": ("/v1.0/security/incidents/{incident}", {"customTags": ["triaged"]}),
    "graph_incidents.comment": ("/v1.0/security/incidents/{incident}/comments", COMMENT),
    "graph_alerts.list": ("/v1.0/security/alerts_v2", None),
    "graph_alerts.get": ("/v1.0/security/alerts_v2/{alert}", None),
    "graph_alerts.update": ("/v1.0/security/alerts_v2/{alert}", {"assignedTo": "soc@contoso.com"}),
    "graph_alerts.comment": ("/v1.0/security/alerts_v2/{alert}/comments", COMMENT),
}
OPS = [(name, role) for name in sorted(CALLS) for role in operation(name).roles]


def test_every_incident_and_graph_security_operation_is_covered() -> None:
    served = {
        n
        for n, op in OPERATIONS.items()
        if op.resource != "WindowsDefenderATP"
        and not n.startswith("hunting.")
        and op.family not in ("graph_apps", "graph_sps", "graph_grants")  # tests/setup covers these
    }
    assert sorted(CALLS) == sorted(served)


def _ids(sec: Sec) -> dict[str, str]:
    alert = sec.mde.get("/api/alerts?$top=1").json()["value"][0]
    return {"alert": alert["id"], "incident": str(alert["incidentId"])}


def _call(client: Any, name: str, ids: dict[str, str]) -> Any:
    path, body = CALLS[name]
    return client.request(operation(name).method, path.format(**ids), json=body)


@pytest.mark.parametrize(("name", "role"), OPS)
def test_operation_answers_with_its_role_and_refuses_without(sec: Sec, name: str, role: str) -> None:
    op = operation(name)
    ids = _ids(sec)
    graph = op.resource == "Microsoft Graph"
    resource, other = (
        (GRAPH_URI, "ThreatHunting.Read.All") if graph else (MTP_URI, "AdvancedHunting.Read.All")
    )
    refused = _call(sec.client_for(resource, [other]), name, ids)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "Forbidden"
    if graph:
        assert error["message"] == (
            f"Missing application roles. API required roles: {','.join(op.roles)}, application roles: {other}"
        )
        assert error["innerError"]["request-id"] == refused.headers["request-id"]
    else:
        required = ", ".join(op.roles)
        assert error["message"] == (
            f"Missing application roles. API required roles: {required}, application roles: {other}."
        )
        assert error["target"] == refused.headers["request-id"]
    allowed = _call(sec.client_for(resource, [role]), name, ids)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()  # an entity, a collection or the comment list


def test_xdr_incidents_want_a_threat_protection_token(sec: Sec) -> None:
    # The incidents API belongs to Microsoft Threat Protection: a WindowsDefenderATP token is a
    # valid token for another resource there (403, as a foreign audience is on the MDE API).
    mde_token = sec.client_for(MDE_URI, ["Alert.ReadWrite.All"])
    refused = mde_token.get("/api/incidents")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        f"The access token audience '{MDE_URI}' is not valid for this API"
    )
    assert sec.graph.get("/api/incidents").status_code == 403
    missing = sec.client(None).get("/api/incidents")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "Unauthorized"
    # ... and a Threat Protection token is no good on the MDE API either
    assert sec.xdr.get("/api/alerts").status_code == 403


def _graph_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "innerError"} and error["code"] == code and error["message"]
    inner = error["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}
    assert inner["request-id"] == response.headers["request-id"]
    return dict(inner)


def test_graph_error_envelopes(sec: Sec) -> None:
    reply = sec.control.post("/_emulator/clock", json={"advanceSeconds": 1500})  # tokens stay valid
    now = reply.json()["now"]
    inner = _graph_envelope(
        sec.client(None).get("/v1.0/security/incidents"), 401, "InvalidAuthenticationToken"
    )
    # the virtual clock (25 minutes ahead of real time here), in Graph's format (seconds, no zone)
    date = datetime.strptime(inner["date"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert abs((date - parse_time(now)).total_seconds()) < 30
    assert inner["client-request-id"] == inner["request-id"]
    traced = sec.graph.get("/v1.0/security/incidents/1", headers={"client-request-id": "trace-42"})
    assert _graph_envelope(traced, 404, "NotFound")["client-request-id"] == "trace-42"
    assert traced.headers["client-request-id"] == "trace-42"
    wrong = sec.client_for(MDE_URI, ["Alert.Read.All"]).get("/v1.0/security/alerts_v2")
    _graph_envelope(wrong, 401, "InvalidAuthenticationToken")
    assert wrong.json()["error"]["message"] == "Access token validation failure. Invalid audience."
    assert "WWW-Authenticate" in wrong.headers
    assert _graph_envelope(
        sec.client("not.a.jwt").get("/v1.0/security/alerts_v2"), 401, "InvalidAuthenticationToken"
    )
    bad = [
        sec.graph.get("/v1.0/security/incidents?$filter=title eq 'x'"),
        sec.graph.get("/v1.0/security/incidents?$filter=status eq 'sleeping'"),
        sec.graph.get("/v1.0/security/incidents?$top=51"),
        sec.graph.get("/v1.0/security/alerts_v2?$top=0"),
        sec.graph.get("/v1.0/security/alerts_v2?$expand=alerts"),
        sec.graph.get("/v1.0/security/alerts_v2?$search=x"),
        sec.graph.get("/v1.0/security/alerts_v2?$orderby=title"),
        sec.graph.get("/v1.0/security/alerts_v2?$count=maybe"),
        sec.graph.get("/v1.0/security/alerts_v2?$skiptoken=forged"),
    ]
    for response in bad:
        _graph_envelope(response, 400, "BadRequest")
    assert "The limit of '50' for Top query has been exceeded" in bad[2].json()["error"]["message"]
    not_allowed = sec.graph.delete("/v1.0/security/incidents/1000")
    _graph_envelope(not_allowed, 405, "MethodNotAllowed")


def test_graph_patch_bodies_are_checked(sec: Sec) -> None:
    incident = sec.graph.get("/v1.0/security/incidents?$top=1").json()["value"][0]
    path = f"/v1.0/security/incidents/{incident['id']}"
    cases = {
        "not json": sec.graph.patch(path, content=b"{", headers={"Content-Type": "application/json"}),
        "unknown": sec.graph.patch(path, json={"colour": "red"}),
        "case": sec.graph.patch(path, json={"Status": "resolved"}),
        "read-only": sec.graph.patch(path, json={"severity": "high"}),
        "enum": sec.graph.patch(path, json={"status": "sleeping"}),
        "redirect": sec.graph.patch(path, json={"status": "redirected"}),
        "deprecated": sec.graph.patch(path, json={"determination": "apt"}),
        "type": sec.graph.patch(path, json={"customTags": "one"}),
        "odata type": sec.graph.patch(path, json={"@odata.type": "#microsoft.graph.user"}),
    }
    for label, response in cases.items():
        assert response.status_code == 400, (label, response.text)
        assert response.json()["error"]["code"] == "BadRequest", label
    assert (
        "does not exist on type 'microsoft.graph.security.incident'"
        in cases["unknown"].json()["error"]["message"]
    )
    empty = sec.graph.post(f"{path}/comments", json={"@odata.type": "microsoft.graph.security.alertComment"})
    assert empty.status_code == 400
    unchanged = sec.graph.get(path).json()
    assert (
        unchanged["status"] == incident["status"]
        and unchanged["lastUpdateDateTime"] == incident["lastUpdateDateTime"]
    )


def test_xdr_patch_bodies_are_checked(sec: Sec) -> None:
    incident = sec.xdr.get("/api/incidents?$top=1").json()["value"][0]
    path = f"/api/incidents/{incident['incidentId']}"
    for body, code in (
        ({"Status": "Resolved"}, "InvalidRequestBody"),
        ({"status": "Sleeping"}, "InvalidInput"),
        ({"status": "Redirected"}, "InvalidInput"),
        ({"classification": "truePositive"}, "InvalidInput"),
        ({"tags": "one"}, "InvalidRequestBody"),
    ):
        response = sec.xdr.patch(path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == code, body
    missing = sec.xdr.get("/api/incidents/99999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"
    assert sec.xdr.get("/api/incidents/abc").status_code == 404
    assert sec.xdr.get("/api/incidents?$filter=severity eq 'High'").json()["error"]["code"] == "ODataError"


def test_xdr_throttling_answers_429_with_retry_after(sec: Sec) -> None:
    assert sec.control.post("/_emulator/throttling", json={"scale": 0.1}).status_code == 200  # 50/min -> 5
    answers = [sec.xdr.get("/api/incidents?$top=1") for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    throttled = answers[-1]
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    wait = int(throttled.headers["Retry-After"])
    assert 1 <= wait <= 60
    sec.control.post("/_emulator/clock", json={"advanceSeconds": wait})
    assert sec.xdr.get("/api/incidents?$top=1").status_code == 200


def test_graph_throttling_is_per_family_with_retry_after(sec: Sec) -> None:
    assert sec.control.post("/_emulator/throttling", json={"scale": 0.02}).status_code == 200  # 150/min -> 3
    alert = sec.graph.get("/v1.0/security/alerts_v2?$top=1").json()["value"][0]
    assert sec.graph.get(f"/v1.0/security/alerts_v2/{alert['id']}").status_code == 200
    assert sec.graph.get("/v1.0/security/alerts_v2?$top=2").status_code == 200
    throttled = sec.graph.get(f"/v1.0/security/alerts_v2/{alert['id']}")  # list and get share the limit
    _graph_envelope(throttled, 429, "TooManyRequests")
    wait = int(throttled.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert sec.graph.get("/v1.0/security/incidents?$top=1").status_code == 200  # another family
    sec.control.post("/_emulator/clock", json={"advanceSeconds": wait})
    assert sec.graph.get(f"/v1.0/security/alerts_v2/{alert['id']}").status_code == 200


def test_another_tenant_sees_none_of_it(sec: Sec, make_tenant: Any) -> None:
    other = make_tenant("Fabrikam")["tenantId"]
    app = sec.make_app(permissions=ALL_PERMISSIONS, tenant=other, display_name="Fabrikam SOC")
    xdr, graph = sec.client(app.token(MTP_URI)), sec.client(app.token(GRAPH_URI))
    ids = _ids(sec)
    before = sec.graph.get(f"/v1.0/security/alerts_v2/{ids['alert']}").json()
    assert xdr.get("/api/incidents").json()["value"] == []
    assert graph.get("/v1.0/security/alerts_v2").json()["value"] == []
    assert xdr.get(f"/api/incidents/{ids['incident']}").status_code == 404
    assert xdr.patch(f"/api/incidents/{ids['incident']}", json={"status": "Resolved"}).status_code == 404
    assert graph.get(f"/v1.0/security/incidents/{ids['incident']}").status_code == 404
    assert (
        graph.patch(f"/v1.0/security/alerts_v2/{ids['alert']}", json={"status": "resolved"}).status_code
        == 404
    )
    assert graph.post(f"/v1.0/security/alerts_v2/{ids['alert']}/comments", json=COMMENT).status_code == 404
    assert sec.graph.get(f"/v1.0/security/alerts_v2/{ids['alert']}").json() == before  # untouched
