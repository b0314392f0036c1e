"""The shared input checks (in process: no emulator needed) and the one place errors are printed."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
import typer
from cli_helpers import MDE_BIN

from mdekit.cli.bulk import StateFile
from mdekit.cli.filters import parse_duration, parse_since
from mdekit.cli.inputs import guid, positive_seconds, read_text, row_error, shorten, shorten_message
from mdekit.errors import ConfigurationError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_read_text_refuses_binary_non_utf8_directories_and_missing(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(bytes(range(256)))
    (tmp_path / "latin1.csv").write_bytes("caf\xe9\n".encode("latin-1"))
    (tmp_path / "bom.csv").write_bytes("\ufeffid\nm1\n".encode())
    assert read_text(str(tmp_path / "bom.csv")) == "id\nm1\n"
    for name, words in (
        ("bin", "binary"),
        ("latin1.csv", "not UTF-8"),
        (".", "directory"),
        ("nope", "cannot read"),
    ):
        with pytest.raises(ConfigurationError, match=words) as caught:
            read_text(str(tmp_path / name), "target file")
        assert caught.value.exit_code == 2


def test_guid_accepts_guids_only() -> None:
    assert guid(" 3FA85F64-5717-4562-B3FC-2C963F66AFA6 ", "id") == "3FA85F64-5717-4562-B3FC-2C963F66AFA6"
    for bad in (
        "not-a-guid",
        "3fa85f64571745 62b3fc2c963f66afa6",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6x",
        "",
    ):
        with pytest.raises(ConfigurationError, match="expected a GUID"):
            guid(bad, "machine action id")


def test_positive_seconds() -> None:
    assert positive_seconds(0.1) == 0.1 and positive_seconds(None) is None
    for bad in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(typer.BadParameter):
            positive_seconds(bad)


def test_since_too_far_back_is_a_usage_error() -> None:
    assert parse_since("2d", NOW) == NOW - dt.timedelta(days=2)
    for text in ("99999999999999d", "9" * 400 + "w", "700000d", "0001-01-01", "1969-12-31T23:59:59Z"):
        with pytest.raises(ConfigurationError, match="before 1970"):
            parse_since(text, NOW)
    with pytest.raises(ConfigurationError, match="--at"):
        parse_since("soonish", NOW, option="--at")


def test_shorten_message_cuts_user_values_but_keeps_ordinary_text() -> None:
    value = "a" * 5000 + ".example"
    message = f"HTTP 400 InvalidDomainName: Domain name {value} is invalid"
    short = shorten_message(message, ["indicators", "add", value])
    assert short == f"HTTP 400 InvalidDomainName: Domain name {'a' * 80}… is invalid"
    url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=" + "1" * 36
    assert shorten_message(f"grant consent: {url}") == f"grant consent: {url}"  # not a user value
    spaced = "word " * 1000  # no argv match, no long run: the whole-line cap still holds
    assert len(shorten_message(spaced)) <= 1001
    from_file = "x" * 300  # a long run that is not in argv (e.g. a value read from a file)
    assert shorten_message(f"bad {from_file}") == f"bad {shorten(from_file)}"


def test_error_lines_from_typer_entry_point_are_shortened() -> None:
    # the real entry point, no emulator: --since is checked before any connection is made
    huge = "9" * 3000 + "d"
    run = subprocess.run(
        [MDE_BIN, "alerts", "list", "--since", huge, "--tenant", "t", "--client-id", "c"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 2 and run.stderr.startswith("error: bad --since '")
    assert len(run.stderr) < 300 and "…" in run.stderr


def test_row_error_keeps_the_services_words() -> None:
    from mdekit.errors import NotFoundError

    body = {"error": {"code": "ResourceNotFound", "message": "Machine nosuch was not found"}}
    exc = NotFoundError(
        "GET /api/machines/{id} failed: HTTP 404 ...", status=404, code="ResourceNotFound", body=body
    )
    assert row_error(exc) == "Machine nosuch was not found (ResourceNotFound)"
    assert row_error(ConfigurationError("x" * 300)) == shorten("x" * 300)


def test_one_duration_syntax_kql_and_iso_8601_ambiguous_units_refused() -> None:
    ago = {
        "1m": dt.timedelta(minutes=1),
        "90s": dt.timedelta(seconds=90),
        "500ms": dt.timedelta(milliseconds=500),
        "1.5h": dt.timedelta(hours=1.5),
        "7d": dt.timedelta(days=7),
        "7D": dt.timedelta(days=7),
        "2w": dt.timedelta(weeks=2),
        "PT1M": dt.timedelta(minutes=1),
        "PT12H": dt.timedelta(hours=12),
        "P1D": dt.timedelta(days=1),
        "P1DT6H30M": dt.timedelta(days=1, hours=6, minutes=30),
    }
    for text, delta in ago.items():
        assert parse_since(text, NOW) == NOW - delta, text
        assert parse_duration(text, option="--timespan") == delta, text
    for text, words in (
        ("1M", "minutes or months"),
        ("3mo", "no fixed length"),
        ("2months", "no fixed length"),
        ("1y", "no fixed length"),
        ("P1M", "no fixed length"),
        ("P1Y", "no fixed length"),
    ):
        with pytest.raises(ConfigurationError, match=words):
            parse_since(text, NOW)
        with pytest.raises(ConfigurationError, match=words):
            parse_duration(text, option="--timespan")
    for bad in ("P", "PT", "1 fortnight", "-5d", "2024-01-01"):
        with pytest.raises(ConfigurationError, match="--timespan"):
            parse_duration(bad, option="--timespan")


def test_state_file_appends_after_a_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "run.state"
    path.write_text("host-1")  # written by hand: no newline at the end
    state = StateFile(str(path))
    state.mark("host-2")
    state.mark("host-3")
    assert path.read_text() == "host-1\nhost-2\nhost-3\n"
    assert StateFile(str(path)).done == {"host-1", "host-2", "host-3"}
    with pytest.raises(ConfigurationError, match="cannot write the state file"):
        StateFile(str(tmp_path / "missing-dir" / "run.state"))
    assert not (tmp_path / "missing-dir").exists()
    assert StateFile(str(tmp_path / "dry.state"), writable=False).done == set()
    assert not (tmp_path / "dry.state").exists()  # a dry run never creates it
