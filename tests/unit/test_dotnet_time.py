"""Times on the wire as the service's .NET serializer writes them (up to 7 fractional digits, trailing
zeros removed), in every answer the renderers write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mdekit.emulator.clock import dotnet_time, dotnet_times


@pytest.mark.parametrize(
    ("stored", "wire"),
    [
        ("2020-12-12T00:00:00.0000000Z", "2020-12-12T00:00:00Z"),
        ("2021-01-26T20:33:59.2000000Z", "2021-01-26T20:33:59.2Z"),
        ("2021-01-26T20:33:57.7220239Z", "2021-01-26T20:33:57.7220239Z"),
        ("2023-04-25T22:58:00.5500000Z", "2023-04-25T22:58:00.55Z"),
    ],
)
def test_trailing_zeros_are_removed(stored: str, wire: str) -> None:
    assert dotnet_time(stored) == wire


def test_datetimes_and_whole_documents() -> None:
    assert dotnet_time(datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)) == "2024-01-02T03:04:05.6Z"
    text = '{"a":"2020-12-12T00:00:00.0000000Z","b":["2021-01-26T20:33:59.2000000Z"],"c":"0.1000000Z"}'
    expected = '{"a":"2020-12-12T00:00:00Z","b":["2021-01-26T20:33:59.2Z"],"c":"0.1000000Z"}'
    assert dotnet_times(text) == expected


def _regex_rewrite(text: str) -> str:
    """The reference: one regex pass over the whole text (what ``dotnet_times`` did before issue 19)."""
    from mdekit.emulator.clock import _TRAILING_ZEROS

    return _TRAILING_ZEROS.sub(r'"\1Z"', text)


def test_whole_documents_match_the_single_regex_pass() -> None:
    # Random texts built from the pieces that make or break a match (quotes, escaped quotes, zeros,
    # bare dots, times, near-times): the find-based rewrite must give the regex pass's text exactly.
    import random

    pieces = ['"', "0", '0Z"', "Z", ".", ":", "1", "2020-01-02T03:04:05", "-", "T", '\\"', "x", ".000"]
    pieces += ['00Z"', ","]
    rnd = random.Random(19)
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14)))
        assert dotnet_times(text) == _regex_rewrite(text), text
    edge = '"2020-01-01T00:00:00.1230000Z","2020-01-01T00:00:000Z","a0Z",0Z"2020-01-01T00:00:00.10Z"'
    assert dotnet_times(edge) == _regex_rewrite(edge)


def test_answer_bytes_is_the_stdlib_text_and_falls_back_for_what_orjson_refuses() -> None:
    import json

    from mdekit.emulator.defender.jsonio import answer_bytes

    item = {"b": "é \u2028 \x01", "a": [1, None, True], "t": "2020-12-12T00:00:00.0000000Z"}
    body = {"@odata.context": "x", "value": [item]}
    stdlib = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    assert answer_bytes(body) == dotnet_times(stdlib).encode("utf-8")
    big = {"n": 2**70, 1: "non-string key"}
    assert answer_bytes(big) == json.dumps(big, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
