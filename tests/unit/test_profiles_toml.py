"""profiles.toml is written by a TOML library and read back unchanged, whatever the characters."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mdekit import profiles


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MDEKIT_CONFIG_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "text",
    [
        "\U000e0001tag",  # outside the BMP and not printable: was written as \\ue000 + "1"
        "\U0001d173 beam",  # musical symbol (format character, outside the BMP)
        "emoji \U0001f600 and \u00e9",
        'quote " backslash \\ tab \t bell \x07 newline \n del \x7f',
    ],
    ids=["tag-char", "format-char", "emoji", "escapes"],
)
def test_any_string_round_trips(config_dir: Path, text: str) -> None:
    profile = profiles.Profile(name="odd", tenant="t", client_id="c", authority=text, region=text[::-1])
    path = profiles.save(profiles.Config({"odd": profile}, default="odd"))
    assert tomllib.loads(path.read_text(encoding="utf-8"))["profiles"]["odd"]["authority"] == text
    loaded = profiles.load()
    assert loaded.default == "odd"
    assert loaded.get("odd") == profile


def test_file_is_private_and_commented(config_dir: Path) -> None:
    path = profiles.save(profiles.Config({"a": profiles.Profile(name="a", tenant="t")}))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8").startswith("# mdekit profiles - no secrets in here")
    assert profiles.load().get("a").tenant == "t"
    profiles.save(profiles.Config())
    assert profiles.load().profiles == {}
