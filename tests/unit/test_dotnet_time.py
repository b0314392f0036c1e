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
