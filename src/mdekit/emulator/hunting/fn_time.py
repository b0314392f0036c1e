"""KQL date and time functions over integer microseconds (``ago``, ``bin``, ``datetime_diff`` ...)."""

from __future__ import annotations

import re
from typing import Any

from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.fnbase import DAY_US, args, period
from mdekit.emulator.hunting.scalars import Fn, ScalarCompiler
from mdekit.emulator.hunting.sql import E, lit, quote_str

__all__ = ["TIME_FUNCTIONS", "format_datetime_sql", "format_timespan_sql"]

_HOUR = 3_600_000_000
#: Fixed-length periods in microseconds (datetime_diff/datetime_add/datetime_part names).
_FIXED = {
    "week": 7 * DAY_US,
    "day": DAY_US,
    "hour": _HOUR,
    "minute": 60_000_000,
    "second": 1_000_000,
    "millisecond": 1000,
    "microsecond": 1,
    "nanosecond": 1,
}
_MONTHS = {"year": 12, "quarter": 3, "month": 1}
# 1970-01-01 was a Thursday: a week starts on Sunday, three days later.
_SUNDAY = 3 * DAY_US


def _ts(sql: str) -> str:
    return f"make_timestamp({sql})"


def _floor(value: str, size: int | str, offset: int = 0) -> str:
    # ((x - offset) % s + s) % s keeps times before 1970 (negative x) in the right bin.
    return f"({value} - ((({value} - {offset}) % {size}) + {size}) % {size})"


def _ago(c: ScalarCompiler, items: list[Any]) -> E:
    (span,) = args(c, items, "ago", 1)
    if isinstance(span.const, int):
        return lit(c.now_us - span.const, "datetime")
    return E(f"({c.now_us} - {span.sql})", "datetime")


def _now(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "now", 0, 1)
    if parts:
        return E(f"({c.now_us} + {parts[0].sql})", "datetime")
    return lit(c.now_us, "datetime")


def _bin(c: ScalarCompiler, items: list[Any]) -> E:
    value, size = args(c, items, "bin", 2)
    if value.type == "dynamic":
        value = c.number(value)
    if value.type == "real" or size.type == "real":
        return E(f"(floor(({value.sql}) / ({size.sql})) * ({size.sql}))", "real")
    return E(_floor(value.sql, size.sql), value.type)


def _bin_at(c: ScalarCompiler, items: list[Any]) -> E:
    value, size, at = args(c, items, "bin_at", 3)
    return E(f"({at.sql} + {_floor(f'({value.sql} - {at.sql})', size.sql)})", value.type)


def _startof(unit: str) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = args(c, items, f"startof{unit}", 1, 2)
        dt = parts[0].sql
        offset = parts[1].sql if len(parts) == 2 else None
        if unit == "day":
            base = _floor(dt, DAY_US)
            return E(f"({base} + ({offset}) * {DAY_US})" if offset else base, "datetime")
        if unit == "week":
            base = _floor(_floor(dt, DAY_US), 7 * DAY_US, _SUNDAY)
            return E(f"({base} + ({offset}) * {7 * DAY_US})" if offset else base, "datetime")
        shifted = f"date_trunc('{unit}', {_ts(dt)})"
        if offset:
            shifted = f"({shifted} + to_{unit}s(CAST({offset} AS INTEGER)))"
        return E(f"epoch_us({shifted})", "datetime")

    return build


def _endof(unit: str) -> Fn:
    start = _startof(unit)

    def build(c: ScalarCompiler, items: list[Any]) -> E:
        args(c, items, f"endof{unit}", 1)
        nxt = start(c, [*items, _one()])
        return E(f"({nxt.sql} - 1)", "datetime")

    return build


def _one() -> Any:
    from mdekit.emulator.hunting import ast

    return ast.Lit(1, "long")


def _datetime_diff(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) != 3:
        raise KqlSemanticError("Function 'datetime_diff' expects 3 arguments")
    unit = period(c, items[0])
    a, b = c.compile(items[1]), c.compile(items[2])
    if unit in _MONTHS:
        return E(
            f"(date_diff('month', {_ts(b.sql)}, {_ts(a.sql)}) // {_MONTHS[unit]})"
            if unit != "year"
            else f"date_diff('year', {_ts(b.sql)}, {_ts(a.sql)})",
            "long",
        )
    if unit not in _FIXED:
        raise KqlSemanticError(f"datetime_diff: unknown period '{unit}'")
    size = _FIXED[unit]
    if unit == "week":
        return E(f"((({a.sql}) - {_SUNDAY}) // {size} - (({b.sql}) - {_SUNDAY}) // {size})", "long")
    if unit == "nanosecond":
        return E(f"(({a.sql}) - ({b.sql})) * 1000", "long")
    return E(f"((({a.sql}) // {size}) - (({b.sql}) // {size}))", "long")


def _datetime_add(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) != 3:
        raise KqlSemanticError("Function 'datetime_add' expects 3 arguments")
    unit = period(c, items[0])
    n, dt = c.compile(items[1]), c.compile(items[2])
    if unit in _MONTHS:
        return E(
            f"epoch_us({_ts(dt.sql)} + to_months(CAST(({n.sql}) * {_MONTHS[unit]} AS INTEGER)))", "datetime"
        )
    if unit not in _FIXED:
        raise KqlSemanticError(f"datetime_add: unknown period '{unit}'")
    return E(f"({dt.sql} + ({n.sql}) * {_FIXED[unit]})", "datetime")


_PARTS = {
    "year": "year",
    "quarter": "quarter",
    "month": "month",
    "week_of_year": "week",
    "weekofyear": "week",
    "day": "day",
    "dayofyear": "doy",
    "hour": "hour",
    "minute": "minute",
    "second": "second",
    "millisecond": "millisecond",
    "microsecond": "microsecond",
    "nanosecond": "nanosecond",
}


def _datetime_part(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) != 2:
        raise KqlSemanticError("Function 'datetime_part' expects 2 arguments")
    unit = period(c, items[0])
    if unit not in _PARTS:
        raise KqlSemanticError(f"datetime_part: unknown part '{unit}'")
    dt = c.compile(items[1])
    sql = f"date_part('{_PARTS[unit]}', {_ts(dt.sql)})"
    if unit == "second":
        sql = f"(date_part('second', {_ts(dt.sql)}))"
    elif unit == "millisecond":
        sql = f"(date_part('millisecond', {_ts(dt.sql)}) % 1000)"
    elif unit == "microsecond":
        sql = f"(date_part('microsecond', {_ts(dt.sql)}) % 1000000)"
    return E(f"CAST({sql} AS INTEGER)", "int")


def _dayofweek(c: ScalarCompiler, items: list[Any]) -> E:
    (dt,) = args(c, items, "dayofweek", 1)
    days = f"((({dt.sql}) - {_SUNDAY}) // {DAY_US})"
    return E(f"((({days} % 7) + 7) % 7 * {DAY_US})", "timespan")


def _part(name: str, part: str) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (dt,) = args(c, items, name, 1)
        return E(f"CAST(date_part('{part}', {_ts(dt.sql)}) AS INTEGER)", "int")

    return build


def _format_datetime(c: ScalarCompiler, items: list[Any]) -> E:
    dt, fmt = args(c, items, "format_datetime", 2)
    if not isinstance(fmt.const, str):
        raise KqlSemanticError("format_datetime: the format must be a constant string")
    return E(f"coalesce({format_datetime_sql(dt.sql, fmt.const)}, '')", "string")


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


def format_datetime_sql(dt: str, fmt: str) -> str:
    """SQL formatting datetime *dt* (microseconds) with KQL format *fmt* (``yyyy-MM-dd HH:mm:ss.fff``)."""
    parts: list[str] = []
    pattern: list[str] = []

    def flush() -> None:
        if pattern:
            parts.append(f"strftime(make_timestamp({dt}), {quote_str(''.join(pattern))})")
            pattern.clear()

    i = 0
    while i < len(fmt):
        frac = re.match(r"f{1,7}|F{1,7}", fmt[i:])
        if frac:
            flush()
            micros = f"lpad(CAST((({dt}) % 1000000 + 1000000) % 1000000 AS VARCHAR), 6, '0')"
            digits = f"substr({micros} || '0', 1, {len(frac.group(0))})"
            parts.append(f"rtrim({digits}, '0')" if frac.group(0)[0] == "F" else digits)
            i += len(frac.group(0))
            continue
        tok = next(((k, v) for k, v in _FMT if fmt.startswith(k, i)), None)
        if tok is None:
            pattern.append(fmt[i].replace("%", "%%"))
            i += 1
            continue
        pattern.append(tok[1])
        i += len(tok[0])
    flush()
    return parts[0] if len(parts) == 1 else "concat(" + ", ".join(parts) + ")" if parts else "''"


def _format_timespan(c: ScalarCompiler, items: list[Any]) -> E:
    ts, fmt = args(c, items, "format_timespan", 2)
    if not isinstance(fmt.const, str):
        raise KqlSemanticError("format_timespan: the format must be a constant string")
    return E(f"coalesce({format_timespan_sql(ts.sql, fmt.const)}, '')", "string")


def format_timespan_sql(ts: str, fmt: str) -> str:
    """SQL formatting timespan *ts* (microseconds) with KQL format *fmt* (``d.hh:mm:ss.fff``)."""
    a = f"abs({ts})"
    units = {
        "d": f"{a} // 86400000000",
        "h": f"({a} % 86400000000) // 3600000000",
        "H": f"({a} % 86400000000) // 3600000000",
        "m": f"({a} % 3600000000) // 60000000",
        "s": f"({a} % 60000000) // 1000000",
    }
    parts: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        run = len(re.match(re.escape(ch) + "+", fmt[i:]).group(0))  # type: ignore[union-attr]
        if ch in units:
            parts.append(f"lpad(CAST({units[ch]} AS VARCHAR), {run}, '0')")
        elif ch in "fF":
            digits = f"substr(lpad(CAST({a} % 1000000 AS VARCHAR), 6, '0') || '0', 1, {min(run, 7)})"
            parts.append(f"rtrim({digits}, '0')" if ch == "F" else digits)
        elif ch in "'\"":
            end = fmt.find(ch, i + 1)
            end = len(fmt) if end < 0 else end
            parts.append(quote_str(fmt[i + 1 : end]))
            run = end - i + 1
        else:
            parts.append(quote_str(fmt[i : i + run]))
        i += run
    sign = f"(CASE WHEN {ts} < 0 THEN '-' ELSE '' END)"
    return "concat(" + ", ".join([sign, *parts]) + ")"


def _make_datetime(c: ScalarCompiler, items: list[Any]) -> E:
    parts = [p.sql for p in args(c, items, "make_datetime", 1, 7)]
    parts += ["1", "1", "0", "0", "0"][len(parts) - 1 : 5]
    y, mo, d, h, mi, s = parts[:6]
    return E(f"epoch_us(make_timestamp({y}, {mo}, {d}, {h}, {mi}, {s}))", "datetime")


def _make_timespan(c: ScalarCompiler, items: list[Any]) -> E:
    parts = [p.sql for p in args(c, items, "make_timespan", 2, 5)]
    if len(parts) == 2:
        parts = ["0", *parts, "0"]
    elif len(parts) == 3:
        parts = ["0", *parts]
    d, h, m, s = parts[:4]
    return E(f"CAST((({d}) * 86400 + ({h}) * 3600 + ({m}) * 60 + ({s})) * 1000000 AS BIGINT)", "timespan")


def _todatetime(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "todatetime", 1)
    if value.type == "datetime":
        return value
    if value.type in ("long", "int", "real"):
        return E("CAST(NULL AS BIGINT)", "datetime")
    return E(f"kql_todatetime({c.text(value).sql})", "datetime")


def _totimespan(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "totimespan", 1)
    if value.type == "timespan":
        return value
    if value.type in ("long", "int"):
        return E(f"CAST(({value.sql}) / 10 AS BIGINT)", "timespan")  # ticks of 100 ns
    return E(f"kql_totimespan({c.text(value).sql})", "timespan")


def _unix(name: str, factor: float) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (value,) = args(c, items, name, 1)
        return E(f"CAST(({c.number(value).sql}) * {factor} AS BIGINT)", "datetime")

    return build


def _ingestion_time(c: ScalarCompiler, items: list[Any]) -> E:
    args(c, items, "ingestion_time", 0)
    col = c.columns.get("Timestamp")
    if col is None or col.type != "datetime":
        return E("CAST(NULL AS BIGINT)", "datetime")
    # Events reach the service seconds to minutes after they happen (deterministic per event).
    return E(f"({col.ident} + 20000000 + CAST(hash({col.ident}) % 280000000 AS BIGINT))", "datetime")


TIME_FUNCTIONS: dict[str, Fn] = {
    "ago": _ago,
    "now": _now,
    "bin": _bin,
    "floor": _bin,
    "bin_at": _bin_at,
    "startofday": _startof("day"),
    "startofweek": _startof("week"),
    "startofmonth": _startof("month"),
    "startofyear": _startof("year"),
    "endofday": _endof("day"),
    "endofweek": _endof("week"),
    "endofmonth": _endof("month"),
    "endofyear": _endof("year"),
    "datetime_diff": _datetime_diff,
    "datetime_add": _datetime_add,
    "datetime_part": _datetime_part,
    "datepart": _datetime_part,
    "dayofweek": _dayofweek,
    "dayofmonth": _part("dayofmonth", "day"),
    "dayofyear": _part("dayofyear", "doy"),
    "monthofyear": _part("monthofyear", "month"),
    "getmonth": _part("getmonth", "month"),
    "getyear": _part("getyear", "year"),
    "week_of_year": _part("week_of_year", "week"),
    "hourofday": _part("hourofday", "hour"),
    "format_datetime": _format_datetime,
    "format_timespan": _format_timespan,
    "make_datetime": _make_datetime,
    "make_timespan": _make_timespan,
    "todatetime": _todatetime,
    "totimespan": _totimespan,
    "unixtime_seconds_todatetime": _unix("unixtime_seconds_todatetime", 1_000_000),
    "unixtime_milliseconds_todatetime": _unix("unixtime_milliseconds_todatetime", 1000),
    "unixtime_microseconds_todatetime": _unix("unixtime_microseconds_todatetime", 1),
    "ingestion_time": _ingestion_time,
}
