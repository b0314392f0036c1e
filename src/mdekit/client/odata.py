"""OData ``$filter`` building from friendly arguments (pure).

String literals are single-quoted with quotes doubled; times are unquoted ISO 8601 UTC, as the
service's own examples write them (service-facts §5.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["TimeLike", "and_", "eq", "ge", "literal", "to_time"]

#: A point in time: an aware/naive-UTC datetime, a timedelta ago, or ISO 8601 text.
TimeLike = datetime | timedelta | str


def to_time(value: TimeLike, now: datetime | None = None) -> str:
    """*value* as an OData datetime literal; a ``timedelta`` means that long before *now*."""
    if isinstance(value, timedelta):
        value = (now or datetime.now(UTC)) - value
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def literal(value: Any) -> str:
    """An OData literal for a Python value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return to_time(value)
    return "'" + str(value).replace("'", "''") + "'"


def eq(prop: str, value: Any) -> str | None:
    """``prop eq value``; a list or tuple becomes ``(prop eq a or prop eq b)``; ``None`` -> no clause."""
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        values: Sequence[Any] = sorted(value) if isinstance(value, set | frozenset) else list(value)
        if len(values) == 1:
            return f"{prop} eq {literal(values[0])}"
        return "(" + " or ".join(f"{prop} eq {literal(v)}" for v in values) + ")"
    return f"{prop} eq {literal(value)}"


def ge(prop: str, value: TimeLike | None, now: datetime | None = None) -> str | None:
    """``prop ge <time>``; ``None`` -> no clause."""
    return None if value is None else f"{prop} ge {to_time(value, now)}"


def and_(clauses: Iterable[str | None]) -> str | None:
    """Join the non-empty clauses with ``and``; ``None`` when there are none."""
    parts = [c for c in clauses if c]
    return " and ".join(parts) if parts else None
