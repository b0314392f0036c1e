"""The request flow shared by the sync and async clients, written once as a generator.

:func:`call_flow` decides everything - token, pre-flight, rate limit, retries, 401 refresh,
pending-action reuse - and *yields* the I/O it needs as small step records. A driver
(:mod:`mdekit.client.transport`) performs each step (blocking or awaiting) and sends the result
back in. So the async twin is a 20-line driver, not a copy of the logic.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from mdekit.catalog import Operation, operation
from mdekit.client.core import Call, Reply, check_permission, error_from_reply, retry_after_seconds
from mdekit.client.retry import RetryPolicy
from mdekit.client.tokens import Token, refused_again
from mdekit.errors import ActionAlreadyPendingError, MdeError, ServerError, TransportError

__all__ = [
    "Fetch",
    "Flow",
    "GetToken",
    "Multipart",
    "Options",
    "Reserve",
    "Send",
    "Sleep",
    "call_flow",
    "page_flow",
]


@dataclass(frozen=True)
class GetToken:
    """Step: the current token (a fresh one if ``stale`` is the token the API just refused)."""

    stale: Token | None = None


@dataclass(frozen=True)
class Reserve:
    """Step: book a rate-limit slot for ``op``; the driver sleeps until it."""

    op: Operation


@dataclass(frozen=True)
class Send:
    """Step: send one HTTP request; the driver answers with a :class:`Reply` or a TransportError."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    token: str


@dataclass(frozen=True)
class Sleep:
    """Step: wait ``seconds`` (with the client's injectable sleep)."""

    seconds: float


@dataclass(frozen=True)
class Fetch:
    """Step: GET a pre-signed download link (a SAS URL: it carries its own signature, so no bearer
    token is sent) and save the body to *to*, streamed (``None``: keep it in the reply).

    The driver answers with a :class:`Reply` (its content empty when saved to *to*, which is then
    complete: written to ``<to>.part`` and renamed) or a TransportError. The repr hides the URL,
    whose signature is a secret while the link is valid.
    """

    url: str = field(repr=False)
    to: str | None = None


@dataclass(frozen=True)
class Multipart:
    """A ``multipart/form-data`` request body: one file part and text fields (library uploads)."""

    part: str
    filename: str
    content: bytes = field(repr=False)
    fields: dict[str, str] = field(default_factory=dict)


#: Marks a reply the flow synthesised from an already pending action (not sent by the service).
REUSED_HEADER = "x-mdekit-reused-pending"

Step = GetToken | Reserve | Send | Sleep | Fetch
Flow = Generator[Step, Any, Any]


@dataclass(frozen=True)
class Options:
    """Per-client behaviour switches read by the flow."""

    retry: RetryPolicy
    preflight: bool = True
    reuse_pending: bool = True


def call_flow(call: Call[Any], opts: Options) -> Flow:
    """Run *call* to a parsed result (``call.parse`` applied)."""
    reply = yield from send_flow(call.op, call.path, dict(call.params), call.body, opts, call)
    result = call.parse(reply.json())
    if reply.headers.get(REUSED_HEADER) and hasattr(result, "_reused"):
        result._reused = True
    return result


def page_flow(op: Operation, path: str, params: dict[str, str], opts: Options) -> Flow:
    """Fetch one list page; returns its raw :class:`Reply` (the pager parses it)."""
    reply = yield from send_flow(op, path, params, None, opts, None)
    return reply


def send_flow(
    op: Operation, path: str, params: dict[str, str], body: Any, opts: Options, call: Call[Any] | None
) -> Flow:
    """Send one operation with token, pre-flight, rate limit and retries; return the 2xx :class:`Reply`."""
    attempt, waited, stale = 0, 0.0, None
    refreshed = False
    refused: Reply | None = None  # the answer that refused the token now in `stale`
    while True:
        token: Token = yield GetToken(stale)
        if stale is not None and refused is not None and token.value == stale.value:
            raise refused_again(refused, op, token)  # a caching credential handed the same one back
        if opts.preflight:
            check_permission(op, token.claims)
        delay = yield Reserve(op)
        waited += delay or 0.0
        attempt += 1
        outcome = yield Send(op.method, path, params, body, token.value)
        if isinstance(outcome, Reply) and outcome.status < 300:
            return outcome
        if isinstance(outcome, Reply) and _refreshable(outcome) and not refreshed:
            # expired/revoked token, or roles granted after it was issued: one refresh, one retry
            refreshed, stale, refused = True, token, outcome
            attempt -= 1
            continue
        stale = None
        failure = (
            outcome if isinstance(outcome, MdeError) else error_from_reply(outcome, op, granted=token.roles)
        )
        if call is not None and call.action_type and _ambiguous(failure):
            found = yield from find_pending(call, opts)
            if found is not None:
                return Reply(201, {REUSED_HEADER: "ambiguous"}, _dump(found))
        if isinstance(failure, ActionAlreadyPendingError) and call is not None and opts.reuse_pending:
            found = yield from find_pending(call, opts)
            if found is not None:
                return Reply(200, {REUSED_HEADER: "duplicate"}, _dump(found))
        wait = _retry_delay(opts.retry, attempt, waited, outcome)
        if wait is None:
            raise failure
        waited += wait
        yield Sleep(wait)


def _refreshable(reply: Reply) -> bool:
    if reply.status == 401:
        return True
    return reply.status == 403 and b"missing application roles" in reply.content.lower()


def _retry_delay(policy: RetryPolicy, attempt: int, waited: float, outcome: Reply | MdeError) -> float | None:
    if isinstance(outcome, TransportError):
        return policy.delay(attempt, waited)
    if not isinstance(outcome, Reply):
        return None
    retry_after = retry_after_seconds(outcome.headers) if outcome.status == 429 else None
    return policy.delay(attempt, waited, status=outcome.status, retry_after=retry_after)


def _ambiguous(failure: MdeError) -> bool:
    """A failure after which the action may or may not have been created."""
    return isinstance(failure, TransportError | ServerError)


def _dump(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def find_pending(call: Call[Any], opts: Options) -> Flow:
    """The machine's open action of ``call``'s type (newest first), or ``None``.

    Used instead of replaying an action POST after an ambiguous failure, and to turn a 400
    ``ActiveRequestAlreadyExists`` into the action that is already pending.
    """
    if not call.machine_id or not call.action_type:
        return None
    op = operation("actions.list")
    for status in ("Pending", "InProgress"):
        mid = call.machine_id.replace("'", "''")
        flt = f"machineId eq '{mid}' and type eq '{call.action_type}' and status eq '{status}'"
        reply = yield from send_flow(op, op.path, {"$filter": flt}, None, opts, None)
        items = (reply.json() or {}).get("value") or []
        if items:
            return max(items, key=_created)
    return None


def _created(item: Any) -> str:
    return str(item.get("creationDateTimeUtc") or "") if isinstance(item, dict) else ""
