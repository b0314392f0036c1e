"""Which failed requests the flow sends again: by method, catalogue idempotency and what failed.

Pure: the flow's steps are answered here. The end-to-end counterparts (real sockets, the
emulator's journal) are in tests/reliability/test_rel_client_faults.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mdekit.catalog import OPERATIONS, operation
from mdekit.client.core import Reply, make_call
from mdekit.client.flow import GetToken, Options, Reserve, Send, Sleep, call_flow
from mdekit.client.retry import RetryPolicy
from mdekit.client.tokens import Token
from mdekit.errors import MdeError, ServerError, TransportError

OPTS = Options(RetryPolicy(max_attempts=4, jitter=False, backoff=1))
ROLES = {"roles": ["Alert.ReadWrite.All", "Ti.ReadWrite.All", "AdvancedQuery.Read.All"]}


def _sends(call: Any, first: Reply | MdeError) -> tuple[int, Any]:
    """(requests sent, result or raised error) when the first attempt fails with *first*."""
    sent = 0
    flow = call_flow(call, OPTS)
    value: Any = None
    while True:
        try:
            step = flow.send(value)
        except StopIteration as stop:
            return sent, stop.value
        except MdeError as exc:
            return sent, exc
        if isinstance(step, GetToken):
            value = Token("t", 9e18, ROLES)
        elif isinstance(step, Reserve | Sleep):
            value = 0.0 if isinstance(step, Reserve) else None
        else:
            assert isinstance(step, Send)
            sent += 1
            value = first if sent == 1 else Reply(200, {}, json.dumps({"id": "x"}).encode())


def _status(code: int) -> Reply:
    return Reply(code, {}, json.dumps({"error": {"code": "X", "message": "m"}}).encode())


UNSENT = TransportError("connection refused", sent=False)
MAYBE_SENT = TransportError("read timeout", sent=True)

PATCH_COMMENT = make_call("alerts.update", body={"comment": "once"}, id="a1")
DELETE = make_call("indicators.delete", id="7")
QUERY = make_call("hunting.run", body={"Query": "DeviceInfo"})
GET = make_call("alerts.get", id="a1")
CASES: list[tuple[str, Any, Reply | MdeError, int]] = [
    ("PATCH, read timeout: may have landed", PATCH_COMMENT, MAYBE_SENT, 1),
    ("PATCH, connection refused", PATCH_COMMENT, UNSENT, 2),
    ("PATCH, 429", PATCH_COMMENT, _status(429), 2),
    ("PATCH, 503", PATCH_COMMENT, _status(503), 2),
    ("PATCH, 500: may have landed", PATCH_COMMENT, _status(500), 1),
    ("PATCH, 504: may have landed", PATCH_COMMENT, _status(504), 1),
    ("DELETE, read timeout", DELETE, MAYBE_SENT, 1),
    ("DELETE, connection refused", DELETE, UNSENT, 2),
    ("POST query (idempotent), read timeout", QUERY, MAYBE_SENT, 2),
    ("POST query (idempotent), 502", QUERY, _status(502), 2),
    ("GET, read timeout", GET, MAYBE_SENT, 2),
    ("GET, 500", GET, _status(500), 2),
]


@pytest.mark.parametrize(("case", "call", "first", "expected"), CASES, ids=[c[0] for c in CASES])
def test_replay_decision(case: str, call: Any, first: Reply | MdeError, expected: int) -> None:
    sent, result = _sends(call, first)
    assert sent == expected, case
    if expected == 1:  # the first failure is what the caller sees
        assert isinstance(result, TransportError | ServerError), result
    else:
        assert result == {"id": "x"}


def test_the_catalogue_marks_only_reads_queries_and_upserts_replayable() -> None:
    replayable = {name for name, op in OPERATIONS.items() if op.replayable and op.method != "GET"}
    assert replayable == {
        "hunting.run",
        "hunting.run_xdr",
        "hunting.run_graph",
        "machines.update",
        "machines.set_device_value",
        "indicators.submit",
        "indicators.import",
    }
    assert not any(op.replayable for op in OPERATIONS.values() if op.creates_action)
    assert not operation("alerts.update").replayable and not operation("alerts.batch_update").replayable


def test_transport_errors_say_whether_the_request_left() -> None:
    import httpx

    from mdekit.client.transport import _transport_error

    step = Send("PATCH", "WindowsDefenderATP", "/api/alerts/a1", {}, {"comment": "c"}, "t")
    unsent: list[Callable[[str], Exception]] = [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
    maybe: list[Callable[[str], Exception]] = [
        httpx.ReadTimeout,
        httpx.ReadError,
        httpx.RemoteProtocolError,
        httpx.WriteError,
        ConnectionResetError,
    ]
    assert all(not _transport_error(step, make("x")).sent for make in unsent)
    assert all(_transport_error(step, make("x")).sent for make in maybe)
