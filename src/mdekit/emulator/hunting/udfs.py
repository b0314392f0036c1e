# ruff: noqa: E501 - SQL macro bodies and lookup tables read best one clause a line
"""SQL macros for what DuckDB lacks (KQL's timespan text, IPv4 ranges, URL/path/command-line
parsing, ...), and the Python converters of result values.

The macros are plain DuckDB ``CREATE MACRO`` statements, created once per tenant database: they
run vectorized inside the engine (Python UDFs would need numpy and hold the GIL per row).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["MACROS", "format_timespan", "register", "us_to_iso"]

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


_IPV4 = r"'^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$'"
_PRIVATE = r"'^(10\.|127\.|169\.254\.|172\.(1[6-9]|2[0-9]|3[01])\.|192\.168\.)'"
_COUNTRIES = (
    "[{'country': 'United States', 'state': 'Virginia', 'city': 'Ashburn', 'latitude': 39.0437, 'longitude': -77.4875},"
    " {'country': 'Netherlands', 'state': 'North Holland', 'city': 'Amsterdam', 'latitude': 52.3676, 'longitude': 4.9041},"
    " {'country': 'Germany', 'state': 'Hesse', 'city': 'Frankfurt am Main', 'latitude': 50.1109, 'longitude': 8.6821},"
    " {'country': 'Ireland', 'state': 'Leinster', 'city': 'Dublin', 'latitude': 53.3498, 'longitude': -6.2603},"
    " {'country': 'Russia', 'state': 'Moscow', 'city': 'Moscow', 'latitude': 55.7558, 'longitude': 37.6173},"
    " {'country': 'China', 'state': 'Beijing', 'city': 'Beijing', 'latitude': 39.9042, 'longitude': 116.4074},"
    " {'country': 'Singapore', 'state': '', 'city': 'Singapore', 'latitude': 1.3521, 'longitude': 103.8198},"
    " {'country': 'United Kingdom', 'state': 'England', 'city': 'London', 'latitude': 51.5072, 'longitude': -0.1276},"
    " {'country': 'Brazil', 'state': 'Sao Paulo', 'city': 'Sao Paulo', 'latitude': -23.5558, 'longitude': -46.6396},"
    " {'country': 'Iran', 'state': 'Tehran', 'city': 'Tehran', 'latitude': 35.6892, 'longitude': 51.389}]"
)

#: name -> (parameters, SQL body).
MACROS: dict[str, tuple[str, str]] = {
    "kql_ts_str": (
        "us",
        "CASE WHEN us IS NULL THEN NULL ELSE (CASE WHEN us < 0 THEN '-' ELSE '' END)"
        " || (CASE WHEN abs(us) >= 86400000000 THEN CAST(abs(us) // 86400000000 AS VARCHAR) || '.' ELSE '' END)"
        " || lpad(CAST((abs(us) % 86400000000) // 3600000000 AS VARCHAR), 2, '0')"
        " || ':' || lpad(CAST((abs(us) % 3600000000) // 60000000 AS VARCHAR), 2, '0')"
        " || ':' || lpad(CAST((abs(us) % 60000000) // 1000000 AS VARCHAR), 2, '0')"
        " || (CASE WHEN abs(us) % 1000000 <> 0"
        " THEN '.' || lpad(CAST(abs(us) % 1000000 AS VARCHAR), 6, '0') || '0' ELSE '' END) END",
    ),
    "kql_real_str": (
        "x",
        "CASE WHEN x IS NULL THEN NULL WHEN isfinite(x) AND x = trunc(x) AND abs(x) < 1e15"
        " THEN CAST(CAST(x AS BIGINT) AS VARCHAR) ELSE CAST(x AS VARCHAR) END",
    ),
    "kql_todatetime": ("s", "epoch_us(TRY_CAST(trim(s) AS TIMESTAMPTZ))"),
    "kql_totimespan": (
        "s",
        "CASE WHEN regexp_matches(s, '^-?(\\d+\\.)?\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?$') THEN"
        " (CASE WHEN starts_with(s, '-') THEN -1 ELSE 1 END) * ("
        " coalesce(TRY_CAST(regexp_extract(s, '^-?(\\d+)\\.\\d{1,2}:', 1) AS BIGINT), 0) * 86400000000"
        " + CAST(regexp_extract(s, '(\\d{1,2}):\\d{2}', 1) AS BIGINT) * 3600000000"
        " + CAST(regexp_extract(s, '\\d{1,2}:(\\d{2})', 1) AS BIGINT) * 60000000"
        " + coalesce(TRY_CAST(regexp_extract(s, ':\\d{2}:(\\d{2})', 1) AS BIGINT), 0) * 1000000"
        " + coalesce(TRY_CAST(rpad(substr(regexp_extract(s, ':\\d{2}\\.(\\d+)$', 1), 1, 6), 6, '0') AS BIGINT), 0))"
        " WHEN regexp_matches(s, '^\\d+(\\.\\d+)?(d|h|m|s|ms)$') THEN CAST("
        " CAST(regexp_extract(s, '^(\\d+(\\.\\d+)?)', 1) AS DOUBLE) * CASE regexp_extract(s, '(d|h|m|s|ms)$', 1)"
        " WHEN 'd' THEN 86400000000 WHEN 'h' THEN 3600000000 WHEN 'm' THEN 60000000 WHEN 's' THEN 1000000"
        " ELSE 1000 END AS BIGINT) END",
    ),
    "kql_ipv4_int": (
        "ip",
        f"CASE WHEN regexp_matches(ip, {_IPV4}) THEN"
        f" (CAST(regexp_extract(ip, {_IPV4}, 1) AS BIGINT) * 16777216"
        f" + CAST(regexp_extract(ip, {_IPV4}, 2) AS BIGINT) * 65536"
        f" + CAST(regexp_extract(ip, {_IPV4}, 3) AS BIGINT) * 256"
        f" + CAST(regexp_extract(ip, {_IPV4}, 4) AS BIGINT)) END",
    ),
    "kql_parse_ipv4": ("ip", "kql_ipv4_int(split_part(trim(ip), '/', 1))"),
    "kql_prefix_bits": (
        "cidr, dflt",
        "coalesce(TRY_CAST(nullif(split_part(cidr, '/', 2), '') AS BIGINT), dflt)",
    ),
    "kql_ipv4_masked": ("n, bits", "CASE WHEN bits <= 0 THEN 0 ELSE n >> (32 - least(bits, 32)) END"),
    "kql_parse_ipv4_mask": (
        "ip, bits",
        "kql_ipv4_masked(kql_parse_ipv4(ip), TRY_CAST(bits AS BIGINT)) << (32 - least(TRY_CAST(bits AS BIGINT), 32))",
    ),
    "kql_ipv4_is_in_range": (
        "ip, cidr",
        "kql_ipv4_masked(kql_parse_ipv4(ip), kql_prefix_bits(cidr, 32))"
        " = kql_ipv4_masked(kql_parse_ipv4(cidr), kql_prefix_bits(cidr, 32))",
    ),
    "kql_ipv4_is_in_any_range": (
        "ip, ranges",
        "coalesce(list_bool_or(list_transform(json_extract_string(ranges, '$[*]'), lambda r:"
        " kql_ipv4_is_in_range(ip, r))), FALSE)",
    ),
    "kql_ipv4_is_match": (
        "a, b, bits",
        "kql_ipv4_masked(kql_parse_ipv4(a), least(kql_prefix_bits(a, 32), kql_prefix_bits(b, 32),"
        " coalesce(TRY_CAST(bits AS BIGINT), 32)))"
        " = kql_ipv4_masked(kql_parse_ipv4(b), least(kql_prefix_bits(a, 32), kql_prefix_bits(b, 32),"
        " coalesce(TRY_CAST(bits AS BIGINT), 32)))",
    ),
    "kql_ipv4_compare": (
        "a, b, bits",
        "sign(kql_ipv4_masked(kql_parse_ipv4(a), coalesce(TRY_CAST(bits AS BIGINT), 32))"
        " - kql_ipv4_masked(kql_parse_ipv4(b), coalesce(TRY_CAST(bits AS BIGINT), 32)))",
    ),
    "kql_ipv6_is_match": ("a, b, bits", "lower(split_part(a, '/', 1)) = lower(split_part(b, '/', 1))"),
    "kql_ipv4_is_private": ("ip", f"regexp_matches(ip, {_PRIVATE}) AND kql_parse_ipv4(ip) IS NOT NULL"),
    "kql_format_ipv4": (
        "n, bits",
        "CASE WHEN TRY_CAST(n AS BIGINT) IS NOT NULL THEN concat_ws('.',"
        " (TRY_CAST(n AS BIGINT) >> 24) & 255, (TRY_CAST(n AS BIGINT) >> 16) & 255,"
        " (TRY_CAST(n AS BIGINT) >> 8) & 255, TRY_CAST(n AS BIGINT) & 255)"
        " ELSE CAST(NULL AS VARCHAR) END",
    ),
    "kql_geo_info": (
        "ip",
        "CASE WHEN kql_parse_ipv4(ip) IS NULL OR kql_ipv4_is_private(ip) OR starts_with(ip, '0.') THEN '{}'"
        f" ELSE to_json(list_extract({_COUNTRIES}, CAST(hash(split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2)) % 10 AS BIGINT) + 1)) END",
    ),
    "kql_base64_decode": (
        "s",
        "CASE WHEN regexp_matches(trim(s), '^[A-Za-z0-9+/]*={0,2}$') AND length(trim(s)) % 4 = 0"
        " THEN TRY(decode(from_base64(trim(s)))) END",
    ),
    # bytes as hex text: one two-digit pair per byte
    "kql_base64_hex": (
        "s",
        "CASE WHEN regexp_matches(trim(s), '^[A-Za-z0-9+/]*={0,2}$') AND length(trim(s)) % 4 = 0"
        " THEN TRY(lower(hex(from_base64(trim(s))))) END",
    ),
    "kql_hex_bytes": (
        "h",
        "to_json(list_transform(range(0, length(h), 2), lambda i: CAST('0x' || substr(h, i + 1, 2) AS INTEGER)))",
    ),
    "kql_base64_toarray": ("s", "kql_hex_bytes(kql_base64_hex(s))"),
    # a .NET Guid's bytes: the first three groups little-endian, the last two as they are
    "kql_hex_guid": (
        "h",
        "CASE WHEN length(h) = 32 THEN substr(h, 7, 2) || substr(h, 5, 2) || substr(h, 3, 2) || substr(h, 1, 2) || '-'"
        " || substr(h, 11, 2) || substr(h, 9, 2) || '-' || substr(h, 15, 2) || substr(h, 13, 2) || '-'"
        " || substr(h, 17, 4) || '-' || substr(h, 21, 12) END",
    ),
    "kql_base64_toguid": ("s", "kql_hex_guid(kql_base64_hex(s))"),
    "kql_parse_command_line": (
        "cmd",
        "to_json(list_transform(regexp_extract_all(cmd, '(?:\"[^\"]*\"?|[^\\s\"])+'), lambda a: replace(a, '\"', '')))",
    ),
    "kql_parse_urlquery": (
        "q",
        "CASE WHEN q IS NULL OR q = '' THEN MAP {} ELSE map_from_entries(list_transform("
        "list_filter(string_split(ltrim(q, '?'), '&'), lambda p: p <> ''),"
        " lambda p: {'key': url_decode(split_part(p, '=', 1)), 'value': url_decode(split_part(p, '=', 2))})) END",
    ),
    "kql_parse_url": (
        "u",
        "CASE WHEN regexp_matches(u, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN to_json({"
        "'Scheme': regexp_extract(u, '^([A-Za-z][A-Za-z0-9+.-]*)://', 1),"
        "'Host': regexp_extract(u, '^[^:]+://(?:[^@/]*@)?(\\[[^\\]]*\\]|[^:/?#]*)', 1),"
        "'Port': regexp_extract(u, '^[^:]+://(?:[^@/]*@)?(?:\\[[^\\]]*\\]|[^:/?#]*):(\\d+)', 1),"
        "'Path': regexp_extract(u, '^[^:]+://[^/?#]*([^?#]*)', 1),"
        "'Username': regexp_extract(u, '^[^:]+://([^:@/]*)(?::[^@/]*)?@', 1),"
        "'Password': regexp_extract(u, '^[^:]+://[^:@/]*:([^@/]*)@', 1),"
        "'Query Parameters': kql_parse_urlquery(regexp_extract(u, '\\?([^#]*)', 1)),"
        "'Fragment': regexp_extract(u, '#(.*)$', 1)}) END",
    ),
    "kql_parse_path": (
        "p",
        "to_json({"
        "'Scheme': regexp_extract(p, '^([A-Za-z][A-Za-z0-9+.-]+)://', 1),"
        "'RootPath': regexp_extract(p, '^([A-Za-z]:\\\\|\\\\\\\\[^\\\\]+\\\\[^\\\\]+\\\\|/)', 1),"
        "'DirectoryPath': regexp_extract(p, '^(.*)[\\\\/][^\\\\/]*$', 1),"
        "'DirectoryName': regexp_extract(p, '([^\\\\/]*)[\\\\/][^\\\\/]*$', 1),"
        "'Filename': regexp_extract(p, '([^\\\\/:]*)(?::[^\\\\/]*)?$', 1),"
        "'Extension': regexp_extract(p, '\\.([^.\\\\/:]*)(?::[^\\\\/]*)?$', 1),"
        "'AlternateDataStreamName': regexp_extract(p, '[^\\\\/:]:([^\\\\/:]+)$', 1)})",
    ),
    "kql_has_any_index": (
        "s, arr",
        "coalesce(list_position(list_transform(json_extract_string(arr, '$[*]'), lambda t:"
        " regexp_matches(s, '(^|[^0-9A-Za-z])' || regexp_escape(t) || '($|[^0-9A-Za-z])', 'i')), TRUE) - 1, -1)",
    ),
    "kql_merge_bags": (
        "bags",
        "CASE WHEN len(bags) = 0 THEN '{}' ELSE list_reduce(bags, lambda a, b: json_merge_patch(a, b)) END",
    ),
}


def register(conn: object) -> None:
    """Create every ``kql_*`` macro on a DuckDB connection (in dependency order)."""
    for name, (params, body) in MACROS.items():
        conn.execute(f"CREATE OR REPLACE MACRO {name}({params}) AS ({body})")  # type: ignore[attr-defined]
