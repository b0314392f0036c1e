"""OData ``$filter``, ``$select`` and ``$orderby`` building from friendly arguments (pure).

String literals are single-quoted with quotes doubled; times are unquoted ISO 8601 UTC, as the
service's own examples write them (service-facts §5.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mdekit.errors import ConfigurationError

__all__ = ["Names", "TimeLike", "and_", "eq", "ge", "literal", "orderby_param", "select_param", "to_time"]

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


# -- $select and $orderby (issue 12) -------------------------------------------------------------

#: A property name as OData writes one (a path into a complex property uses ``/``).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*")
#: What ``select=`` and ``order_by=`` take: one string (comma-separated) or a list of strings.
Names = str | Sequence[str]


def _parts(option: str, value: Names) -> list[str]:
    """*value* split into its comma-separated parts, stripped; a bad shape is a ConfigurationError."""
    if isinstance(value, str):
        items: Sequence[Any] = value.split(",")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = [p for v in value for p in (v.split(",") if isinstance(v, str) else [v])]
    else:
        raise ConfigurationError(f"{option}: expected a list of property names, got {type(value).__name__}")
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise ConfigurationError(f"{option}: property names are text, got {type(bad[0]).__name__}")
    parts = [p.strip() for p in items]
    if not any(parts):
        raise ConfigurationError(f"{option}: give at least one property name")
    if not all(parts):
        raise ConfigurationError(f"{option}: an empty property name in {value!r}")
    return parts


def _wire_name(name: str, aliases: Mapping[str, str]) -> str:
    """*name* as the service spells it: a model's snake_case field name becomes its wire alias."""
    if not _NAME.fullmatch(name):
        raise ConfigurationError(f"not a property name: {name!r}")
    return aliases.get(name, name)


def select_param(value: Names | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """The ``$select`` text for *value* (``"id,title"`` or ``["id", "title"]``); ``None`` -> no option.

    Snake-case field names of the item model (``computer_dns_name``) are sent under their wire name
    (*aliases*); repeats are dropped. The service answers the properties in the entity's own order.
    """
    if value is None:
        return None
    names = [_wire_name(n, aliases or {}) for n in _parts("select", value)]
    return ",".join(dict.fromkeys(names))


def orderby_param(value: Names | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """The ``$orderby`` text for *value*: ``"lastSeen desc"``, ``"a, b desc"`` or a list of such keys."""
    if value is None:
        return None
    keys = []
    for part in _parts("order_by", value):
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ConfigurationError(
                f"order_by: {part!r} is not 'property', 'property asc' or 'property desc'"
            )
        name = _wire_name(words[0], aliases or {})
        keys.append(f"{name} {words[1].lower()}" if len(words) == 2 else name)
    return ",".join(keys)
