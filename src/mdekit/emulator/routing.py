"""``PrefixRouter``: an APIRouter that is no match, at once, for a path none of its routes can serve.

FastAPI (0.16x) keeps included routers nested and, for every request, tries each included router in
turn, each trying its own routes' patterns (twice per level: once to match, again to handle). An
``/api`` request paid for the control plane's 53 routes and every MDE module before its own (issue
19). A ``PrefixRouter`` first compares the path with the literal start its routes share (``guard``,
or computed from its own routes' paths when it has routes only), a string test instead of dozens
of regular expressions. On a FastAPI that flattens included routers this method is never called.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match

__all__ = ["PrefixRouter"]


class PrefixRouter(APIRouter):
    """An :class:`~fastapi.APIRouter` with a path-prefix guard (see the module docstring).

    *guard*: the path prefixes the router serves; by default the literal start shared by its own
    routes' paths (the part before the first ``{``), recomputed when routes are added.
    """

    def __init__(self, *args: Any, guard: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard
        self._auto: tuple[str, ...] = ("",)
        self._auto_for = -1

    def _prefixes(self) -> tuple[str, ...]:
        if self._guard is not None:
            return self._guard
        if self._auto_for != len(self.routes):
            paths = [r.path for r in self.routes if isinstance(r, APIRoute)]
            # Anything but plain routes (an included router, a mount): no guard.
            # character by character on purpose: a path prefix, not whole segments
            shared = os.path.commonprefix([p.split("{")[0] for p in paths])  # noqa: RUF071
            self._auto = (shared,) if paths and len(paths) == len(self.routes) else ("",)
            self._auto_for = len(self.routes)
        return self._auto

    def matches(self, scope: Any) -> tuple[Match, Any]:
        """No match for a path outside the guard; otherwise FastAPI's own matching."""
        if not scope.get("path", "").startswith(self._prefixes()):
            return Match.NONE, {}
        return super().matches(scope)
