"""The request flow as a pure generator: each step answered by the test, no HTTP involved."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mdekit.client.core import Reply, make_call
from mdekit.client.flow import GetToken, Options, Reserve, Send, Sleep, call_flow
from mdekit.client.retry import RetryPolicy
from mdekit.client.tokens import Token
from mdekit.errors import (
    ActionAlreadyPendingError,
    AuthenticationError,
    MdeError,
    PermissionMissingError,
    ServerError,
    ThrottledError,
    TransportError,
)
from mdekit.models import MachineAction

ROLES = {"roles": ["Machine.Isolate", "Machine.Read.All", "Alert.Read.All"]}


def run(flow: Any, answer: Callable[[Send], Reply | MdeError]) -> tuple[Any, list[Any]]:
    """Drive *flow*; returns (result, steps seen)."""
    steps: list[Any] = []
    value: Any = None
    tokens = 0
    while True:
        try:
            step = flow.send(value)
        except StopIteration as stop:
            return stop.value, steps
        steps.append(step)
        if isinstance(step, GetToken):
            tokens += 0 if step.stale is None and tokens else 1
            value = Token(f"t{tokens}", 9e18, ROLES)
        elif isinstance(step, Reserve):
            value = 0.0
        elif isinstance(step, Sleep):
            value = None
        else:
            value = answer(step)


def _json(status: int, body: Any, **headers: str) -> Reply:
    return Reply(status, headers, json.dumps(body).encode())


ACTION = {"id": "a1", "type": "Isolate", "status": "Pending", "machineId": "m1"}
OPTS = Options(RetryPolicy(jitter=False, backoff=1))


def test_401_refreshes_token_once_then_succeeds() -> None:
    seen: list[str] = []

    def answer(s: Send) -> Reply:
        seen.append(s.token)
        return _json(401, {"error": {"code": "Unauthorized"}}) if len(seen) == 1 else _json(200, {"id": "x"})

    result, steps = run(call_flow(make_call("alerts.get", id="x"), OPTS), answer)
    assert result == {"id": "x"} and seen == ["t1", "t2"]
    assert not any(isinstance(s, Sleep) for s in steps)


def test_429_waits_retry_after_then_gives_up_as_throttled() -> None:
    def answer(s: Send) -> Reply:
        return _json(429, {"error": {"code": "TooManyRequests"}}, **{"retry-after": "3"})

    opts = Options(RetryPolicy(max_attempts=3))
    with pytest.raises(ThrottledError) as info:
        run(call_flow(make_call("alerts.get", id="x"), opts), answer)
    assert info.value.retry_after == 3.0


def test_429_retry_sleeps_exactly_retry_after() -> None:
    calls = []

    def answer(s: Send) -> Reply:
        calls.append(1)
        return _json(429, {}, **{"retry-after": "4"}) if len(calls) < 3 else _json(200, [])

    _, steps = run(call_flow(make_call("alerts.get", id="x"), OPTS), answer)
    assert [s.seconds for s in steps if isinstance(s, Sleep)] == [4.0, 4.0]


def test_action_post_not_replayed_after_ambiguous_failure() -> None:
    sent: list[tuple[str, str]] = []

    def answer(s: Send) -> Reply | MdeError:
        sent.append((s.method, s.path))
        if s.method == "POST":
            return TransportError("connection reset")
        assert "machineId eq 'm1' and type eq 'Isolate' and status eq 'Pending'" in s.params["$filter"]
        return _json(200, {"value": [ACTION]})

    call = make_call("actions.isolate", MachineAction.model_validate, body={"Comment": "c"}, id="m1")
    result, _ = run(call_flow(call, OPTS), answer)
    assert result.id == "a1" and result.reused
    assert sent == [("POST", "/api/machines/m1/isolate"), ("GET", "/api/machineactions")]


def test_action_post_retried_when_nothing_was_created() -> None:
    posts = []

    def answer(s: Send) -> Reply:
        if s.method == "POST":
            posts.append(1)
            return (
                _json(500, {"error": {"code": "InternalServerError"}})
                if len(posts) == 1
                else _json(201, ACTION)
            )
        return _json(200, {"value": []})

    call = make_call("actions.isolate", MachineAction.model_validate, body={"Comment": "c"}, id="m1")
    result, _ = run(call_flow(call, OPTS), answer)
    assert len(posts) == 2 and not result.reused


def test_duplicate_action_returns_pending_or_raises_when_disabled() -> None:
    def answer(s: Send) -> Reply:
        if s.method == "POST":
            return _json(400, {"error": {"code": "ActiveRequestAlreadyExists", "message": "in progress"}})
        return _json(200, {"value": [ACTION]})

    call = make_call("actions.isolate", MachineAction.model_validate, body={"Comment": "c"}, id="m1")
    result, _ = run(call_flow(call, OPTS), answer)
    assert result.reused and result.status == "Pending"
    with pytest.raises(ActionAlreadyPendingError):
        run(call_flow(call, Options(RetryPolicy(), reuse_pending=False)), answer)


def test_5xx_burst_then_success_and_exhaustion() -> None:
    n = []

    def answer(s: Send) -> Reply:
        n.append(1)
        return _json(503, {}) if len(n) <= 2 else _json(200, {"ok": 1})

    result, steps = run(call_flow(make_call("alerts.get", id="x"), OPTS), answer)
    assert result == {"ok": 1} and [s.seconds for s in steps if isinstance(s, Sleep)] == [1, 2]
    with pytest.raises(ServerError):
        run(
            call_flow(make_call("alerts.get", id="x"), Options(RetryPolicy(max_attempts=2))),
            lambda s: _json(502, {}),
        )


def _run_with_caching_credential(flow: Any, answer: Callable[[Send], Reply]) -> list[Send]:
    """Drive *flow* with a credential that caches: after a refusal it hands back the same token."""
    sent: list[Send] = []
    value: Any = None
    token = Token("cached", 9e18, {"roles": ["Alert.Read.All"]})
    while True:
        step = flow.send(value)
        if isinstance(step, GetToken):
            value = token
        elif isinstance(step, Reserve):
            value = 0.0
        elif isinstance(step, Send):
            sent.append(step)
            value = answer(step)
        else:
            value = None


def test_missing_roles_403_with_the_same_token_again_is_a_permission_error() -> None:
    message = (
        "Missing application roles. API required roles: Machine.Read.All, Machine.ReadWrite.All, "
        "application roles: Alert.Read.All."
    )
    sent: list[Send] = []

    def answer(s: Send) -> Reply:
        sent.append(s)
        return _json(403, {"error": {"code": "Forbidden", "message": message}})

    flow = call_flow(make_call("machines.list"), Options(RetryPolicy(), preflight=False))
    with pytest.raises(PermissionMissingError) as info:
        _run_with_caching_credential(flow, answer)
    err = info.value
    assert len(sent) == 1  # the same token is not sent again to be refused again
    assert err.sent and err.granted == ("Alert.Read.All",) and "Machine.Read.All" in err.required
    assert "same token again" in err.message and "create a new credential" in err.message


def test_401_with_the_same_token_again_names_consent_not_a_bare_401() -> None:
    body = {"error": {"code": "Unauthorized", "message": "Unauthorized request - reason of failure: x"}}
    steps: list[Send] = []

    def answer(s: Send) -> Reply:
        steps.append(s)
        return _json(401, body)

    with pytest.raises(AuthenticationError) as info:
        _run_with_caching_credential(call_flow(make_call("alerts.get", id="x"), OPTS), answer)
    err = info.value
    assert len(steps) == 1  # the same token is not sent again to be refused again
    assert err.status == 401 and err.hint and "consent" in err.hint and "new credential" in err.hint
    assert err.message.endswith(f"(hint: {err.hint})") and "HTTP 401 Unauthorized" in err.message
