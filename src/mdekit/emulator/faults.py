"""Fault plans: answer matching requests with an error status, a delay or a dropped connection.

A plan matches on ``method`` (``*`` = any), ``path`` (a shell-style glob matched case-insensitively
against the request path without its query, ``*`` crossing ``/``) or ``pathRegex`` (a Python
regular expression, ``re.search``, case-insensitive), and optionally ``appId`` / ``tenantId``
(read from the bearer token's ``appid``/``tid`` claims, or the tenant path segment of token
requests). Of the matching requests it fires on the ``nth`` one only, on ``every`` k-th, with a
``probability`` (seedable), or on all; ``count`` caps how many times it fires. Firing means:
wait ``delaySeconds`` (real time), then either ``drop`` the connection without any answer, answer
``status`` (the MDE error envelope on ``/api``, an Entra-style body elsewhere; ``retryAfter`` adds
the header), ``dropAfterCommit`` -- let the routes handle (and commit) the request, then drop the
connection before any byte of their answer leaves: the "answer lost after the service acted" case,
which a client must not resolve by sending the request again -- or, with a delay only, let the
request through.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from mdekit.emulator.clock import VirtualClock

__all__ = ["FaultMiddleware", "FaultPlan", "FaultPlans"]

_CODES = {
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class FaultPlan:
    """One fault plan (see the module docstring); ``matched``/``fired`` count its use."""

    id: str
    method: str = "*"
    path: str | None = None
    pathRegex: str | None = None
    appId: str | None = None
    tenantId: str | None = None
    status: int | None = None
    retryAfter: int | None = None
    delaySeconds: float = 0.0
    drop: bool = False
    dropAfterCommit: bool = False
    nth: int | None = None
    every: int | None = None
    probability: float | None = None
    count: int | None = None
    seed: int | None = None
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The plan as the control plane shows it."""
        out = asdict(self)
        out.pop("_rng")
        return out

    def matches(self, method: str, path: str, app: str | None, tenant: str | None) -> bool:
        """Whether a request is one this plan looks at (before nth/every/probability)."""
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path.lower(), self.path.lower()):
            return False
        if self.pathRegex is not None and not re.search(self.pathRegex, path, re.IGNORECASE):
            return False
        if self.appId and (app or "").lower() != self.appId.lower():
            return False
        return not (self.tenantId and (tenant or "").lower() != self.tenantId.lower())

    def decide(self) -> bool:
        """Count a matching request; whether the plan fires on it."""
        if self.count is not None and self.fired >= self.count:
            return False
        self.matched += 1
        if self.nth is not None:
            fire = self.matched == self.nth
        elif self.every is not None:
            fire = self.matched % self.every == 0
        elif self.probability is not None:
            fire = self._rng.random() < self.probability
        else:
            fire = True
        self.fired += int(fire)
        return fire


def _number(spec: dict[str, Any], key: str, kind: type, low: float) -> Any:
    value = spec.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (kind is int and not isinstance(value, int))
    ):
        raise ValueError(f"{key} must be {'an integer' if kind is int else 'a number'}")
    if value < low:
        raise ValueError(f"{key} must be >= {low:g}")
    return kind(value)


def parse_plan(spec: dict[str, Any]) -> FaultPlan:
    """A plan from its JSON description; ``ValueError`` names the first problem."""
    known = {f for f in FaultPlan.__dataclass_fields__ if not f.startswith("_")} - {"id", "matched", "fired"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"unknown fault plan field(s): {', '.join(unknown)}")
    if spec.get("path") is None and spec.get("pathRegex") is None:
        raise ValueError("path (glob) or pathRegex is required")
    for key in ("method", "path", "pathRegex", "appId", "tenantId"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise ValueError(f"{key} must be a string")
    if spec.get("pathRegex"):
        try:
            re.compile(spec["pathRegex"])
        except re.error as exc:
            raise ValueError(f"pathRegex is not a valid regular expression: {exc}") from None
    status = _number(spec, "status", int, 100)
    if status is not None and status > 599:
        raise ValueError("status must be an HTTP status (100-599)")
    drop, after = spec.get("drop", False), spec.get("dropAfterCommit", False)
    for key, flag in (("drop", drop), ("dropAfterCommit", after)):
        if not isinstance(flag, bool):
            raise ValueError(f"{key} must be true or false")
    if after and (drop or status is not None):
        raise ValueError("dropAfterCommit lets the routes answer: it excludes status and drop")
    delay = _number(spec, "delaySeconds", float, 0) or 0.0
    if status is None and not drop and not after and not delay:
        raise ValueError("a plan needs status, drop, dropAfterCommit or delaySeconds")
    probability = _number(spec, "probability", float, 0)
    if probability is not None and probability > 1:
        raise ValueError("probability must be between 0 and 1")
    seed = _number(spec, "seed", int, -(2**63))
    plan = FaultPlan(
        id=str(uuid.uuid4()),
        method=spec.get("method") or "*",
        path=spec.get("path"),
        pathRegex=spec.get("pathRegex"),
        appId=spec.get("appId"),
        tenantId=spec.get("tenantId"),
        status=status,
        retryAfter=_number(spec, "retryAfter", int, 0),
        delaySeconds=delay,
        drop=drop,
        dropAfterCommit=after,
        nth=_number(spec, "nth", int, 1),
        every=_number(spec, "every", int, 1),
        probability=probability,
        count=_number(spec, "count", int, 1),
        seed=seed,
    )
    plan._rng = random.Random(seed)
    return plan


class FaultPlans:
    """The active fault plans (in memory; a restart forgets them)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._plans: dict[str, FaultPlan] = {}
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> FaultPlan:
        """Validate and add a plan (``ValueError`` on bad input)."""
        plan = parse_plan(spec)
        with self._lock:
            self._plans[plan.id] = plan
        return plan

    def plans(self) -> list[dict[str, Any]]:
        """Every plan, oldest first."""
        with self._lock:
            return [p.to_json() for p in self._plans.values()]

    def remove(self, plan_id: str) -> bool:
        """Remove one plan; whether it existed."""
        with self._lock:
            return self._plans.pop(plan_id, None) is not None

    def clear(self) -> None:
        """Remove every plan."""
        with self._lock:
            self._plans.clear()

    def active(self) -> bool:
        """Whether any plan is active (read without the lock: a plan added while a request is
        already past this check applies from the next request on)."""
        return bool(self._plans)

    def pick(self, method: str, path: str, app: str | None, tenant: str | None) -> FaultPlan | None:
        """The first plan that fires for this request (every matching plan counts it)."""
        chosen = None
        with self._lock:
            for plan in self._plans.values():
                if plan.matches(method, path, app, tenant) and plan.decide() and chosen is None:
                    chosen = plan
        return chosen


def _caller(scope: Any) -> tuple[str | None, str | None]:
    """``(appid, tid)`` from the bearer token (unverified: only used to match plans) or the path."""
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        try:
            import jwt

            claims = jwt.decode(auth[7:].strip(), options={"verify_signature": False})
            return claims.get("appid") or claims.get("azp"), claims.get("tid")
        except Exception:  # a malformed token matches no app/tenant filter
            return None, None
    first = scope["path"].strip("/").split("/", 1)[0]
    return None, first or None


def _find_transport(send: Any, depth: int = 0) -> Any:
    """The server's socket transport behind *send* (uvicorn's cycle), through middleware closures."""
    if depth > 8:
        return None
    owner = getattr(send, "__self__", None)
    if owner is not None and hasattr(owner, "transport"):
        return owner.transport
    for cell in getattr(send, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if callable(value):
            found = _find_transport(value, depth + 1)
            if found is not None:
                return found
    return None


async def _swallow(message: Any) -> None:
    """An ASGI ``send`` that discards the answer (``dropAfterCommit``)."""


#: Scope key of the journal's callback that records a request as unanswered (status 0).
JOURNAL_UNANSWERED = "mdekit.journal_unanswered"


class FaultDropped(ConnectionResetError):
    """Raised in-process (no socket to close) when a plan drops the connection."""


def _body(path: str, status: int, request_id: str) -> bytes:
    if path.lower().startswith("/api"):
        code = _CODES.get(status, "InternalServerError" if status >= 500 else "BadRequest")
        return json.dumps(
            {"error": {"code": code, "message": "Injected fault (emulator fault plan)", "target": request_id}}
        ).encode()
    error = "temporarily_unavailable" if status in (429, 503) else "server_error"
    return json.dumps(
        {
            "error": error,
            "error_description": "Injected fault (emulator fault plan)",
            "error_codes": [],
            "trace_id": request_id,
            "correlation_id": request_id,
        }
    ).encode()


class FaultMiddleware:
    """ASGI middleware applying :class:`FaultPlans` before the routes see a request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state.emu
        if not state.faults.active():  # no plan: no token decoding (issue 19: ~15 % of a small page)
            await self.app(scope, receive, send)
            return
        app_id, tenant = _caller(scope)
        plan = state.faults.pick(scope["method"], scope["path"], app_id, tenant)
        if plan is None:
            await self.app(scope, receive, send)
            return
        if plan.delaySeconds:
            await asyncio.sleep(plan.delaySeconds)
        if plan.drop:
            await self._drop(scope, send)
        elif plan.dropAfterCommit:
            await self.app(scope, receive, _swallow)  # handled and committed; the answer goes nowhere
            await self._drop(scope, send)
        elif plan.status is not None:
            await self._answer(scope, send, plan)
        else:
            await self.app(scope, receive, send)

    async def _drop(self, scope: Any, send: Any) -> None:
        journal = scope.get(JOURNAL_UNANSWERED)
        if journal is not None:
            journal()  # before the close: the client may look at the journal as soon as it sees it
        transport = _find_transport(send)
        if transport is None:
            raise FaultDropped("connection dropped by an emulator fault plan")
        transport.abort()  # no status line, no bytes: the client sees the connection close
        await asyncio.sleep(0.01)  # let the server notice the disconnect before this request ends

    async def _answer(self, scope: Any, send: Any, plan: FaultPlan) -> None:
        request_id = str(uuid.uuid4())
        body = _body(scope["path"], plan.status or 500, request_id)
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"request-id", request_id.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if plan.retryAfter is not None:
            headers.append((b"retry-after", str(plan.retryAfter).encode()))
        await send({"type": "http.response.start", "status": plan.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
