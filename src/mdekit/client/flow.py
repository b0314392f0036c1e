"""The request flow shared by the sync and async clients, written once as a generator.

:func:`call_flow` decides everything - token, pre-flight, rate limit, retries, 401 refresh,
pending-action reuse - and *yields* the I/O it needs as small step records. A driver
(:mod:`mdekit.client.transport`) performs each step (blocking or awaiting) and sends the result
back in; an exception raised while performing a step (a token that cannot be obtained) is thrown
into the flow at the ``yield``. So the async twin is a 20-line driver, not a copy of the logic.

Flows compose with ``yield from``: a family method that needs more than one request (waiting for
an action, choosing a hunting API) is itself a flow that any client runs with ``client.run(flow)``.

Replays: a GET (or an operation the catalogue marks idempotent) is retried after any transient
failure. Anything else is retried only when the request provably never reached the service - the
connection could not be made, or the answer was 429/503 - because a read timeout on a PATCH with a
comment may have added the comment already. Action POSTs look the pending action up instead.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

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
    "send_flow",
]

T = TypeVar("T")


@dataclass(frozen=True)
class GetToken:
    """Step: the current token for catalogue *resource* (a fresh one if ``stale`` was just refused)."""

    resource: str
    stale: Token | None = None


@dataclass(frozen=True)
class Reserve:
    """Step: book a rate-limit slot for ``op``; the driver sleeps until it."""

    op: Operation


@dataclass(frozen=True)
class Send:
    """Step: send one HTTP request to *path* on *resource*; the driver answers with a :class:`Reply`
    or a TransportError. The repr never shows the token or the body (which may hold secrets)."""

    method: str
    resource: str
    path: str
    params: dict[str, str]
    body: Any = field(repr=False)
    token: str = field(repr=False)
    #: Answer a 2xx as soon as its headers arrive, the body left unread (:attr:`Reply.unread`).
    defer: bool = False


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

#: Statuses that say the service did not act on the request (safe to send it again).
NOT_ACTED_ON = frozenset({429, 503})

Step = GetToken | Reserve | Send | Sleep | Fetch
#: A request flow returning a ``T``: run it with ``client.run(flow)``.
Flow: TypeAlias = Generator[Step, Any, T]


@dataclass(frozen=True)
class Options:
    """Per-client behaviour switches read by the flow."""

    retry: RetryPolicy
    preflight: bool = True
    reuse_pending: bool = True


def call_flow(call: Call[T], opts: Options) -> Flow[T]:
    """Run *call* to a parsed result (``call.parse`` applied)."""
    reply = yield from send_flow(call.op, call.path, dict(call.params), call.body, opts, call)
    result = call.parse(reply.json())
    if reply.headers.get(REUSED_HEADER) and hasattr(result, "_reused"):
        result._reused = True
    return result


def page_flow(op: Operation, path: str, params: dict[str, str], opts: Options) -> Flow[Reply]:
    """Fetch one list page; returns its raw :class:`Reply` (the pager parses it)."""
    reply = yield from send_flow(op, path, params, None, opts, None)
    return reply


def send_flow(
    op: Operation, path: str, params: dict[str, str], body: Any, opts: Options, call: Call[Any] | None
) -> Flow[Reply]:
    """Send one operation with token, pre-flight, rate limit and retries; return the 2xx :class:`Reply`."""
    attempt, waited, stale = 0, 0.0, None
    refreshed = False
    refused: Reply | None = None  # the answer that refused the token now in `stale`
    while True:
        token: Token = yield GetToken(op.resource, stale)
        if stale is not None and refused is not None and token.value == stale.value:
            raise refused_again(refused, op, token)  # a caching credential handed the same one back
        if opts.preflight:
            check_permission(op, token.claims)
        delay = yield Reserve(op)
        waited += delay or 0.0
        attempt += 1
        outcome = yield Send(op.method, op.resource, path, params, body, token.value)
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
        replay_safe = op.replayable or _not_acted_on(outcome)
        if call is not None and call.action_type and _ambiguous(failure):
            found = yield from find_pending(call, opts)
            if found is not None:
                return Reply(201, {REUSED_HEADER: "ambiguous"}, _dump(found))
            replay_safe = True  # the look-up shows no such action: sending it again creates one
        if isinstance(failure, ActionAlreadyPendingError) and call is not None and opts.reuse_pending:
            found = yield from find_pending(call, opts)
            if found is not None:
                return Reply(200, {REUSED_HEADER: "duplicate"}, _dump(found))
        wait = _retry_delay(opts.retry, attempt, waited, outcome) if replay_safe else None
        if wait is None:
            raise failure
        waited += wait
        yield Sleep(wait)


def _not_acted_on(outcome: Reply | MdeError) -> bool:
    """True when the service provably did not act on the request (so sending it again is safe)."""
    if isinstance(outcome, TransportError):
        return not outcome.sent
    return isinstance(outcome, Reply) and outcome.status in NOT_ACTED_ON


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


def find_pending(call: Call[Any], opts: Options) -> Flow[Any]:
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
