"""Case-insensitive, version-tolerant routing for ``/api/...`` paths.

The real service treats path segments case-insensitively (``/GetPackageUri`` and ``/getPackageUri``
both work) and accepts ``/api/v1.0/...``. FastAPI routes are case-sensitive, so this ASGI layer
rewrites a request path to the catalogue's spelling before routing (service-facts §3.2).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mdekit.catalog import Operation, find_operation

__all__ = ["CanonicalPathMiddleware", "canonical_path"]

_VERSION = re.compile(r"^/api/v1\.0(?=/|$)", re.IGNORECASE)
_METHODS = ("GET", "POST", "PATCH", "DELETE", "PUT")
_PARAM = re.compile(r"\{([^}]+)\}")


def _render(op: Operation, params: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: params[m.group(1)], op.path)


@lru_cache(maxsize=4096)
def canonical_path(method: str, path: str) -> str:
    """*path* spelled as in the catalogue (``/API/Alerts`` -> ``/api/alerts``); unknown paths unchanged.

    Remembered per (method, path): the catalogue lookup tries every operation's pattern, which
    cost more than a small list answer itself (issue 19).
    """
    path = _VERSION.sub("/api", path)
    if not path.lower().startswith("/api/"):
        return path
    found = find_operation(method, path)
    if found is None:  # a wrong method still gets the canonical spelling (-> 405, not 404)
        for other in _METHODS:
            found = find_operation(other, path)
            if found:
                break
    if found is None:
        return path
    op, params = found
    # Graph paths never start with /api; the XDR incidents share the MDE front end (same spelling rules).
    if op.resource not in ("WindowsDefenderATP", "Microsoft Threat Protection") or op.name.startswith(
        "hunting."
    ):
        return path
    return _render(op, params)


class CanonicalPathMiddleware:
    """ASGI middleware applying :func:`canonical_path` to every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"][:4].lower() == "/api":
            path = canonical_path(scope["method"], scope["path"])
            if path != scope["path"]:
                scope = dict(scope)  # shallow copy: ``state`` (tenant/app for the journal) stays shared
                scope["path"] = path
        await self.app(scope, receive, send)
