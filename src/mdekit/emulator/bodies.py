"""Request bodies, read one way on every surface: bounded in size, JSON bounded in nesting.

:class:`BodyLimitMiddleware` reads each request body up to its surface's limit
(:data:`~mdekit.emulator.limits.MAX_BODY_BYTES`) before any route runs, and answers 413 in the
surface's envelope beyond it, without reading the rest. :func:`parse_json` is the one JSON reader
of the Defender API, hunting and control-plane routes: orjson (C, its own nesting cap of 1024
levels, no recursion in Python) plus a nesting check at :data:`~mdekit.emulator.limits.MAX_JSON_DEPTH`,
so a hostile body is a 400 in the route's envelope, never a ``RecursionError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from mdekit.emulator.envelopes import Problem, error_answer, surface
from mdekit.emulator.limits import BODY_LIMIT_BY_PATH, MAX_BODY_BYTES, MAX_JSON_DEPTH

__all__ = ["BodyLimitMiddleware", "InvalidJson", "json_depth_exceeds", "parse_json"]


class InvalidJson(ValueError):
    """A request body that is not JSON, or nests deeper than allowed; ``str()`` says which."""


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True if arrays/objects in *value* nest deeper than *limit* (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children: Iterable[Any] = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def parse_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """*raw* parsed as JSON; :class:`InvalidJson` if it is not JSON or nests too deep."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc).lower() or "recursion" in str(exc).lower():
            raise InvalidJson(f"it nests deeper than {max_depth} levels") from None
        raise InvalidJson("it is not valid JSON") from None
    if isinstance(value, dict | list) and json_depth_exceeds(value, max_depth):
        raise InvalidJson(f"it nests deeper than {max_depth} levels")
    return value


def _content_length(scope: Any) -> int | None:
    for key, value in scope.get("headers") or ():
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "RequestEntityTooLarge", f"The request body is larger than the {limit:,} bytes this API accepts."
    )


class BodyLimitMiddleware:
    """Reads the whole body (at most the surface's limit) before the app; 413 beyond it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            BODY_LIMIT_BY_PATH.get(scope["path"].lower().rstrip("/"))
            or MAX_BODY_BYTES[surface(scope["path"])]
        )
        declared = _content_length(scope)
        if declared is not None and declared > limit:  # refused unread
            await self._refuse(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # a chunked body that keeps coming
                await self._refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Any, send: Any, limit: int) -> None:
        now = scope["app"].state.emu.clock.now()
        headers, body = error_answer(scope["path"], _too_large(limit), now)
        # The rest of the body is never read, so this connection cannot carry another request.
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` giving *body* once, then the server's own (which reports the disconnect)."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
