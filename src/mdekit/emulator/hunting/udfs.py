"""SQLite user functions for what SQL lacks: KQL's term matching, regexes, datetime formatting, ...

Every function is NULL-safe (KQL treats a missing value as empty) and registered as deterministic so
SQLite may evaluate constant arguments once.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from mdekit.emulator.clock import parse_time

__all__ = ["format_timespan", "register", "us_to_iso"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = 86_400_000_000


def us_to_iso(us: int | float | None) -> str | None:
    """Microseconds since the epoch -> ``2024-01-02T03:04:05.1234560Z`` (the API's 7 fractional digits)."""
    if us is None:
        return None
    dt = _EPOCH + timedelta(microseconds=int(us))
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


def format_timespan(us: int | float | None) -> str | None:
    """Microseconds -> KQL's ``[-][d.]hh:mm:ss[.fffffff]``."""
    if us is None:
        return None
    us = int(us)
    sign = "-" if us < 0 else ""
    days, rest = divmod(abs(us), _DAY)
    secs, frac = divmod(rest, 1_000_000)
    text = f"{sign}{f'{days}.' if days else ''}{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    return text + (f".{frac:06d}0" if frac else "")


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _us(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@lru_cache(maxsize=512)
def _term_rx(term: str, cs: bool, mode: str) -> re.Pattern[str]:
    # KQL terms are runs of alphanumerics: `has` matches the needle on term boundaries.
    lead = "" if mode == "suffix" else r"(?<![0-9A-Za-z])"
    trail = "" if mode == "prefix" else r"(?![0-9A-Za-z])"
    return re.compile(lead + re.escape(term) + trail, 0 if cs else re.IGNORECASE)


def _has(a: Any, b: Any, cs: bool = False, mode: str = "") -> int:
    if a is None or b is None:
        return 0
    return 1 if _term_rx(str(b), cs, mode).search(str(a)) else 0


def _as_list(value: Any) -> list[Any]:
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return [value]
    return items if isinstance(items, list) else [items]


def _has_any(a: Any, items: Any) -> int:
    return 1 if any(_has(a, t) for t in _as_list(items)) else 0


def _has_all(a: Any, items: Any) -> int:
    return 1 if all(_has(a, t) for t in _as_list(items)) else 0


@lru_cache(maxsize=512)
def _rx(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:  # surfaces as a query error naming the pattern
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


def _regex(a: Any, pattern: Any) -> int:
    return 1 if a is not None and pattern is not None and _rx(str(pattern)).search(str(a)) else 0


def _extract(pattern: Any, group: Any, source: Any) -> str:
    if source is None or pattern is None:
        return ""
    m = _rx(str(pattern)).search(str(source))
    if not m:
        return ""
    try:
        return m.group(int(group)) or ""
    except (IndexError, ValueError):
        return ""


def _split(text: Any, delim: Any) -> str | None:
    if text is None:
        return None
    return json.dumps(str(text).split(str(delim)) if delim else [str(text)])


def _to_long(x: Any) -> int | None:
    if x is None or isinstance(x, int):
        return x
    try:
        return int(float(x)) if isinstance(x, float) else int(str(x).strip(), 0)
    except ValueError:
        try:
            return int(float(str(x)))
        except ValueError:
            return None


def _to_double(x: Any) -> float | None:
    try:
        return None if x is None else float(x)
    except ValueError:
        return None


def _to_datetime(x: Any) -> int | None:
    if x is None or isinstance(x, int):
        return x
    try:
        return _us(parse_time(str(x).replace(" ", "T", 1)))
    except ValueError:
        return None


_FMT = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("tt", "%p"),
    ("M", "%-m"),
    ("d", "%-d"),
    ("H", "%-H"),
    ("h", "%-I"),
    ("m", "%-M"),
    ("s", "%-S"),
]


def _format_datetime(us: Any, fmt: Any) -> str:
    if us is None or fmt is None:
        return ""
    dt, out, i, f = _dt(us), [], 0, str(fmt)
    while i < len(f):
        frac = re.match(r"f{1,7}|F{1,7}", f[i:])
        if frac:
            digits = f"{dt.microsecond:06d}0"[: len(frac.group(0))]
            out.append(digits.rstrip("0") if frac.group(0)[0] == "F" else digits)
            i += len(frac.group(0))
            continue
        tok = next(((k, v) for k, v in _FMT if f.startswith(k, i)), None)
        if tok is None:
            out.append(f[i])
            i += 1
            continue
        code = tok[1].replace("-", "")
        value = dt.strftime(code)
        out.append(value.lstrip("0") or "0" if "-" in tok[1] else value)
        i += len(tok[0])
    return "".join(out)


_PARTS_US = {
    "week": 7 * _DAY,
    "day": _DAY,
    "hour": 3_600_000_000,
    "minute": 60_000_000,
    "second": 1_000_000,
    "millisecond": 1000,
    "microsecond": 1,
}


def _datetime_diff(part: Any, a: Any, b: Any) -> int | None:
    if a is None or b is None:
        return None
    p = str(part).lower()
    da, db = _dt(a), _dt(b)
    if p == "year":
        return da.year - db.year
    if p == "quarter":
        return (da.year * 4 + (da.month - 1) // 3) - (db.year * 4 + (db.month - 1) // 3)
    if p == "month":
        return (da.year * 12 + da.month) - (db.year * 12 + db.month)
    if p not in _PARTS_US:
        raise ValueError(f"datetime_diff: unknown period {part!r}")
    size = _PARTS_US[p]
    shift = 4 * _DAY if p == "week" else 0  # weeks start on Sunday; 1970-01-01 was a Thursday
    return (int(a) + shift) // size - (int(b) + shift) // size


def _datetime_add(part: Any, n: Any, dt: Any) -> int | None:
    if dt is None or n is None:
        return None
    p, count = str(part).lower(), int(n)
    if p in ("year", "quarter", "month"):
        months = count * {"year": 12, "quarter": 3, "month": 1}[p]
        d = _dt(dt)
        total = d.year * 12 + d.month - 1 + months
        y, m = divmod(total, 12)
        day = min(
            d.day,
            [
                31,
                29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28,
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][m],
        )
        return _us(d.replace(year=y, month=m + 1, day=day))
    if p not in _PARTS_US:
        raise ValueError(f"datetime_add: unknown period {part!r}")
    return int(dt) + count * _PARTS_US[p]


def _startof(unit: Any, us: Any) -> int | None:
    if us is None:
        return None
    d = _dt(us)
    day = d.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return _us(day - timedelta(days=(day.weekday() + 1) % 7))
    if unit == "month":
        return _us(day.replace(day=1))
    return _us(day.replace(month=1, day=1))


def _bin_real(x: Any, size: Any) -> float | None:
    if x is None or not size:
        return None
    import math

    return math.floor(float(x) / float(size)) * float(size)


def _strop(op: Any, a: Any, b: Any) -> int:
    if a is None or b is None:
        return 0
    s, t = str(a), str(b)
    if not str(op).endswith("_cs"):
        s, t = s.lower(), t.lower()
    kind = str(op).removesuffix("_cs")
    return int(s.startswith(t) if kind == "startswith" else s.endswith(t) if kind == "endswith" else t in s)


_FUNCS: dict[str, tuple[int, Callable[..., Any]]] = {
    "kql_has": (2, _has),
    "kql_has_cs": (2, lambda a, b: _has(a, b, True)),
    "kql_hasprefix": (2, lambda a, b: _has(a, b, False, "prefix")),
    "kql_hasprefix_cs": (2, lambda a, b: _has(a, b, True, "prefix")),
    "kql_hassuffix": (2, lambda a, b: _has(a, b, False, "suffix")),
    "kql_hassuffix_cs": (2, lambda a, b: _has(a, b, True, "suffix")),
    "kql_has_any": (2, _has_any),
    "kql_has_all": (2, _has_all),
    "kql_regex": (2, _regex),
    "kql_extract": (3, _extract),
    "kql_split": (2, _split),
    "kql_tolong": (1, _to_long),
    "kql_todouble": (1, _to_double),
    "kql_todatetime": (1, _to_datetime),
    "kql_dt_str": (1, lambda us: us_to_iso(us) or ""),
    "kql_ts_str": (1, lambda us: format_timespan(us) or ""),
    "kql_format_datetime": (2, _format_datetime),
    "kql_datetime_diff": (3, _datetime_diff),
    "kql_datetime_add": (3, _datetime_add),
    "kql_startof": (2, _startof),
    "kql_bin_real": (2, _bin_real),
    "kql_strop": (3, _strop),
}


def register(conn: sqlite3.Connection) -> None:
    """Register every ``kql_*`` function on a SQLite connection."""
    for name, (nargs, fn) in _FUNCS.items():
        conn.create_function(name, nargs, fn, deterministic=True)
