"""The MDE client: ``Defender`` / ``AsyncDefender`` over a pure protocol core.

Layout: ``core`` (calls, replies, pre-flight, error translation - pure), ``flow`` (the request
flow as a generator, shared by sync and async), ``transport`` (httpx drivers), ``retry``,
``ratelimit``, ``paging``, ``tokens``, ``odata``, ``base`` (endpoint decorators, pagers) and one
module per API family (``alerts``, ``machines``, ``actions``, ``indicators``, ``entities``,
``investigations``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdekit.client.defender import AsyncDefender, Defender

__all__ = ["AsyncDefender", "Defender"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mdekit.client import defender

        return getattr(defender, name)
    raise AttributeError(name)
