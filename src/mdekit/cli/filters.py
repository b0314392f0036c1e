"""Friendly listing flags (``--since 24h``, ``--severity High``, ``--status New``), validated.

The client builds the OData ``$filter`` from these; the CLI's job is to refuse a typo with one
line (exit 2) before anything is sent, and to send the canonical spelling (the API compares enums
exactly).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

from mdekit.errors import ConfigurationError

__all__ = ["DURATION_HELP", "choices", "parse_duration", "parse_since"]

DURATION_HELP = "30m, 24h, 7d, 2w, 500ms (KQL style) or PT12H, P7D (ISO 8601)"
_KQL = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER = r"(\d+(?:\.\d+)?)"
_ISO = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$",
    re.IGNORECASE,
)
_ISO_SECONDS = (None, None, 604800, 86400, 3600, 60, 1)  # Y, M (refused), W, D, H, M, S
_CALENDAR = {"mo", "mon", "mos", "mth", "month", "months", "y", "yr", "yrs", "year", "years"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _seconds(text: str, option: str) -> float | None:
    """The seconds a duration *text* stands for; ``None`` when it is not written as a duration.

    One syntax for every option that takes a duration: KQL-style ``500ms``, ``30s``, ``30m``,
    ``24h``, ``7d`` (and ``2w``), or ISO 8601 (``PT30M``, ``P7D``, ``P1DT12H``). Units without a
    fixed length or with two readings are refused: ``M`` (minutes or months?), months and years.
    """
    from mdekit.cli.inputs import shorten

    stripped = text.strip()
    m = _KQL.match(stripped)
    if m:
        unit = m.group(2)
        if unit == "M":
            raise ConfigurationError(
                f"bad {option} {shorten(text)!r}: 'M' could mean minutes or months; "
                f"write {m.group(1)}m for minutes (a month has no fixed length: use days, e.g. 30d)"
            )
        if unit.lower() in _CALENDAR:
            raise _calendar(option, text)
        factor = _UNITS.get(unit.lower())
        return None if factor is None else float(m.group(1)) * factor
    iso = _ISO.match(stripped)
    if not iso or stripped.upper() in ("P", "PT") or not any(iso.groups()):
        return None
    if iso.group(1) or iso.group(2):
        raise _calendar(option, text)
    return sum(float(v) * f for v, f in zip(iso.groups()[2:], _ISO_SECONDS[2:], strict=True) if v)


def _calendar(option: str, text: str) -> ConfigurationError:
    from mdekit.cli.inputs import shorten

    return ConfigurationError(
        f"bad {option} {shorten(text)!r}: months and years have no fixed length; "
        "use days (30d, 365d, P30D) or an ISO 8601 time"
    )


def parse_duration(text: str, *, option: str) -> dt.timedelta:
    """A duration (see :data:`DURATION_HELP`) as a ``timedelta``; anything else is a usage error."""
    from mdekit.cli.inputs import shorten

    seconds = _seconds(text, option)
    if seconds is None:
        raise ConfigurationError(f"bad {option} {shorten(text)!r}: use a duration like {DURATION_HELP}")
    try:
        if not math.isfinite(seconds):
            raise OverflowError
        return dt.timedelta(seconds=seconds)
    except OverflowError:
        raise ConfigurationError(f"bad {option} {shorten(text)!r}: far too long") from None


def parse_since(
    text: str | None, now: dt.datetime | None = None, *, option: str = "--since"
) -> dt.datetime | None:
    """A duration ago from *now* (``24h``, ``7d``, ``PT12H``; see :func:`parse_duration`) or an
    ISO 8601 time -> an aware UTC time.

    A time before 1970 (``99999999999999d``, ``0001-01-01``) is a usage error, not an
    ``OverflowError`` or a request the API refuses.
    """
    if not text:
        return None
    from mdekit.cli.inputs import shorten

    now = now or dt.datetime.now(dt.UTC)
    seconds = _seconds(text, option)
    if seconds is not None:
        try:
            value = now - dt.timedelta(seconds=seconds)
        except (OverflowError, ValueError):
            value = _EPOCH - dt.timedelta(days=1)  # before year 1 (or infinite): refused just below
    else:
        try:
            value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError(
                f"bad {option} {shorten(text)!r}: use a duration like {DURATION_HELP}, or an ISO 8601 time"
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
