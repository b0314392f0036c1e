"""Fast JSON for stored entities (orjson keeps key order, as the service's answers need)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "loads"]


def dumps(value: Any) -> str:
    """Compact JSON text."""
    return orjson.dumps(value).decode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON text."""
    return orjson.loads(text)
