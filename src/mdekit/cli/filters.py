"""Friendly listing flags (``--since 24h``, ``--severity High``, ``--status New``), validated.

The client builds the OData ``$filter`` from these; the CLI's job is to refuse a typo with one
line (exit 2) before anything is sent, and to send the canonical spelling (the API compares enums
exactly).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from mdekit.errors import ConfigurationError

__all__ = ["choices", "parse_since"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_since(
    text: str | None, now: dt.datetime | None = None, *, option: str = "--since"
) -> dt.datetime | None:
    """``24h``, ``7d``, ``30m``, ``2w`` (ago from *now*) or an ISO 8601 time -> an aware UTC time.

    A time before 1970 (``99999999999999d``, ``0001-01-01``) is a usage error, not an
    ``OverflowError`` or a request the API refuses.
    """
    if not text:
        return None
    from mdekit.cli.inputs import shorten

    now = now or dt.datetime.now(dt.UTC)
    m = _DURATION.match(text)
    if m:
        try:
            value = now - dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
        except OverflowError:
            value = _EPOCH - dt.timedelta(days=1)  # before year 1: refused just below
    else:
        try:
            value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError(
                f"bad {option} {shorten(text)!r}: use a duration like 30m, 24h, 7d, 2w or an ISO 8601 time"
            ) from None
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if value < _EPOCH:  # no Defender record is that old, and OData has no years before 1000
        raise ConfigurationError(
            f"bad {option} {shorten(text)!r}: reaches back before 1970; use a shorter one"
        )
    return value


def choices(values: Sequence[str] | None, allowed: Sequence[str], what: str) -> list[str] | None:
    """Repeated or comma-separated *values*, checked case-insensitively against *allowed*.

    Returns the canonical spellings (de-duplicated, in order) or ``None`` when none was given.
    """
    if not values:
        return None
    canonical = {a.lower(): a for a in allowed}
    picked: list[str] = []
    for raw in values:
        for value in (v.strip() for v in raw.split(",")):
            if not value:
                continue
            if value.lower() not in canonical:
                raise ConfigurationError(f"bad {what} {value!r}; choose from: {', '.join(allowed)}")
            picked.append(canonical[value.lower()])
    return list(dict.fromkeys(picked)) or None


def choice(value: str | None, allowed: Sequence[str], what: str) -> str | None:
    """One value checked like :func:`choices`."""
    found = choices([value] if value else None, allowed, what)
    return found[0] if found else None
