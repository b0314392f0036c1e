"""Pure protocol logic: calls, pre-flight, error translation, Retry-After, OData, paging cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdekit.catalog import operation
from mdekit.client.core import (
    Call,
    Reply,
    check_permission,
    decode_claims,
    error_from_reply,
    expand_path,
    make_call,
    retry_after_seconds,
)
from mdekit.client.odata import and_, eq, ge, literal, to_time
from mdekit.client.paging import MAX_PAGE, Cursor, first_cursor, next_cursor
from mdekit.errors import (
    ActionAlreadyPendingError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    PermissionMissingError,
    ServerError,
    ThrottledError,
)


def _jwt(claims: dict[str, object]) -> str:
    def seg(d: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256'})}.{seg(claims)}.sig"


def _reply(status: int, body: object, **headers: str) -> Reply:
    return Reply(status, headers, json.dumps(body).encode())


def test_expand_path_encodes_each_segment() -> None:
    op = operation("users.alerts")
    assert expand_path(op, id="contoso\\user 1") == "/api/users/contoso%5Cuser%201/alerts"
    with pytest.raises(ValueError):
        expand_path(op)


def test_make_call_drops_none_params_and_marks_actions() -> None:
    params = {"a": None, "b": True}
    call: Call[Any] = make_call("actions.isolate", params=params, body={"Comment": "x"}, id="m1")
    assert call.params == {"b": "true"}
    assert call.machine_id == "m1" and call.action_type == "Isolate"
    assert make_call("alerts.get", id="a").action_type is None


def test_decode_claims_reads_jwt_and_rejects_opaque() -> None:
    assert decode_claims(_jwt({"roles": ["Alert.Read.All"]})) == {"roles": ["Alert.Read.All"]}
    assert decode_claims("opaque-token") is None
    assert decode_claims("a.!!!.c") is None


def test_preflight_names_permission_operation_and_portal_path() -> None:
    op = operation("actions.isolate")
    with pytest.raises(PermissionMissingError) as info:
        check_permission(op, {"roles": ["Machine.Read.All"]})
    err = info.value
    assert err.required == ("Machine.Isolate",) and err.granted == ("Machine.Read.All",) and not err.sent
    text = str(err)
    assert "Machine.Isolate" in text and "actions.isolate" in text
    assert "API permissions" in text and "WindowsDefenderATP" in text and "Grant admin consent" in text
    check_permission(op, {"roles": ["Machine.Isolate"]})  # allowed
    check_permission(op, None)  # opaque token: the server decides
    check_permission(operation("alerts.list"), {"roles": ["Alert.ReadWrite.All"]})  # any one role suffices


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            400,
            {"error": {"code": "ActiveRequestAlreadyExists", "message": "Action is already in progress"}},
            ActionAlreadyPendingError,
        ),
        (400, {"error": {"code": "ODataError", "message": "bad"}}, BadRequestError),
        (
            404,
            {"error": {"code": "ResourceNotFound", "message": "Machine x was not found", "target": "t1"}},
            NotFoundError,
        ),
        (500, {"error": {"code": "InternalServerError", "message": ""}}, ServerError),
        (503, "<html>busy</html>", ServerError),
        (401, {"error": {"code": "Unauthorized", "message": "expired"}}, AuthenticationError),
    ],
)
def test_error_translation(status: int, body: object, cls: type[Exception]) -> None:
    err = error_from_reply(_reply(status, body), operation("machines.get"))
    assert type(err) is cls
    assert f"HTTP {status}" in str(err)


def test_403_missing_roles_is_permission_missing_sent() -> None:
    body = {
        "error": {
            "code": "Forbidden",
            "message": "Missing application roles. API required roles: Machine.Isolate",
        }
    }
    err = error_from_reply(_reply(403, body), operation("actions.isolate"), granted=("Machine.Read.All",))
    assert isinstance(err, PermissionMissingError) and err.sent and err.required == ("Machine.Isolate",)


def test_429_carries_retry_after_and_error_text_has_no_token() -> None:
    err = error_from_reply(
        _reply(
            429,  # the access token of RFC 6749's example
            {"error": {"code": "TooManyRequests", "message": "Bearer 2YotnFZFEjr1zCsicMWpAA"}},
            **{"retry-after": "7"},
        )
    )
    assert isinstance(err, ThrottledError) and err.retry_after == 7.0
    assert "2YotnFZFEjr1zCsicMWpAA" not in str(err) and "Bearer ***" in str(err)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "12"}) == 12.0
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "soon"}) is None
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    epoch = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds({"retry-after": date}, now=epoch) == 10.0


def test_odata_helpers() -> None:
    assert literal("O'Brien") == "'O''Brien'"
    assert eq("status", ["New", "InProgress"]) == "(status eq 'New' or status eq 'InProgress')"
    assert eq("status", None) is None
    assert to_time(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05Z"
    now = datetime(2024, 1, 2, tzinfo=UTC)
    assert ge("lastUpdateTime", timedelta(days=1), now) == "lastUpdateTime ge 2024-01-01T00:00:00Z"
    assert and_([None, "a eq 1", "b eq 2"]) == "a eq 1 and b eq 2"
    assert and_([None]) is None


def test_paging_follows_next_link_path_only() -> None:
    cur = first_cursor("/api/machines", {"$filter": "x"}, None)
    assert cur.query() == {"$filter": "x"}
    body = {"@odata.nextLink": "https://evil.example/api/machines?$filter=x&$skip=10000"}
    nxt = next_cursor(cur, body, MAX_PAGE)
    assert nxt is not None and nxt.link and nxt.path == "/api/machines"
    assert nxt.query() == {"$filter": "x", "$skip": "10000"}


def test_paging_skip_mode_until_short_page() -> None:
    cur = first_cursor("/api/alerts", {}, 100)
    assert cur.query() == {"$top": "100"}
    nxt = next_cursor(cur, {"value": []}, 100)
    assert nxt is not None and nxt.query() == {"$top": "100", "$skip": "100"}
    assert next_cursor(nxt, {}, 99) is None


def test_paging_past_10000_without_link() -> None:
    cur = first_cursor("/api/alerts", {}, None)
    nxt = next_cursor(cur, {"value": []}, MAX_PAGE)
    assert nxt is not None and nxt.query() == {"$top": str(MAX_PAGE), "$skip": str(MAX_PAGE)}
    assert next_cursor(cur, {}, 10) is None


def test_page_token_round_trip_and_garbage() -> None:
    cur = Cursor("/api/alerts", {"$filter": "a"}, 20000, 10000)
    assert Cursor.from_token(cur.token()) == cur
    with pytest.raises(ConfigurationError):
        Cursor.from_token("not-a-token")
