"""The command surface as users meet it: help in one style, and every documented command line parses.

- every command's ``--help`` is the same plain text (no rich panels, no ``<bool>`` labels, no
  completion options), and a command without subcommands never shows ``COMMAND [ARGS]``;
- every ``mde ...`` line in README.md and in the ``mde demo --json`` transcript (found
  automatically, placeholders filled in) parses: the same line with ``--help`` appended exits 0,
  so an option or a subcommand that does not exist fails here.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import MDE_BIN

from mdekit.cli.main import COMMANDS, main

README = Path(__file__).resolve().parents[2] / "README.md"
_BOX = re.compile("[╭╮╰╯│─━┃]")
_PLACEHOLDER = re.compile(r"<[A-Za-z][^<>]*>")
_INLINE = re.compile(r"`((?:sudo )?mde [^`]+)`")
_ALTERNATIVES = re.compile(r"\b[a-z][a-z-]*(?:\|[a-z][a-z-]*)+\b")
_PIPELINE = {"|", "||", "&", "&&", ";", "(", ")"}


def _help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out + out.err


def _all_commands() -> list[tuple[list[str], bool]]:
    """Every command path below ``mde`` and whether it has subcommands (groups are imported)."""
    import typer

    from mdekit.cli.main import app

    root = typer.main.get_command(app)
    found: list[tuple[list[str], bool]] = []

    def walk(group: Any, path: list[str]) -> None:
        ctx = group.make_context("mde", ["--help"], resilient_parsing=True)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            is_group = hasattr(cmd, "list_commands")
            found.append(([*path, name], is_group))
            if is_group:
                walk(cmd, [*path, name])

    walk(root, [])
    return found


def test_every_help_is_plain_text_in_one_style(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    commands = _all_commands()
    assert {path[0] for path, _ in commands} == set(COMMANDS)
    assert len(commands) > 60
    for path, is_group in commands:
        code, text = _help(capsys, path)
        where = f"mde {' '.join(path)} --help:\n{text}"
        assert code == 0, where
        usage = text.splitlines()[0]
        assert usage.startswith(f"Usage: mde {' '.join(path)} "), where
        assert not _BOX.search(text), where  # no rich panels
        assert "<bool>" not in text and "--install-completion" not in text, where
        assert ("COMMAND [ARGS]" in usage) == is_group, where
        assert ("Commands:" in text) == is_group, where


def _segments(line: str) -> list[list[str]]:
    """The ``mde`` command lines of one shell line: split at pipes and ``;``, redirections dropped."""
    for inner in re.findall(r"\$\((mde [^)]*)\)", line):  # eval "$(mde ...)"
        return _segments(inner)
    lex = shlex.shlex(_PLACEHOLDER.sub("PLACEHOLDER", line), posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        tokens = list(lex)
    except ValueError:  # an unbalanced quote: prose, not a command
        return []
    found, current = [], []
    for token in [*tokens, ";"]:
        if token in _PIPELINE:
            found.append(current)
            current = []
        else:
            current.append(token)
    commands = []
    for words in found:
        while words and (words[0] == "sudo" or re.match(r"^[A-Z_]+=", words[0])):
            words = words[1:]
        if len(words) < 2 or words[0] != "mde" or not re.match(r"^[a-z-]+$", words[1]):
            continue  # not a command line (e.g. Python: `mde = Defender(...)`, `mde.alerts`)
        args, skip = [], False
        for word in words[1:]:
            if skip:
                skip = False
            elif word in ("<", ">", ">>", "2>"):
                skip = True  # the redirection's file
            elif word != "...":
                args.append(word.strip("[]"))
        commands.append([a for a in args if a])
    return commands


def _command_lines(text: str, *, shell: bool) -> list[list[str]]:
    """``mde`` command lines in *text*: inline `code` spans, and every line when *shell*."""
    found = []
    for span in _INLINE.findall(text):
        alternatives = _ALTERNATIVES.search(span)  # `mde emulator tenant|app|...`: each one
        spans = (
            [
                span[: alternatives.start()] + alt + span[alternatives.end() :]
                for alt in alternatives.group().split("|")
            ]
            if alternatives and "--" not in span[: alternatives.start()]
            else [span]
        )
        for each in spans:
            found += _segments(each)
    if shell:
        for line in text.splitlines():
            found += _segments(line)
    return found


def _readme_lines() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    found = _command_lines(re.sub(r"```(?:bash|sh)\n.*?```", "", text, flags=re.DOTALL), shell=False)
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.DOTALL):
        found += _command_lines(block, shell=True)
    return found


@pytest.fixture(scope="module")
def demo_transcript() -> dict[str, Any]:
    proc = subprocess.run(
        [MDE_BIN, "demo", "--json"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def _demo_lines(transcript: dict[str, Any]) -> list[list[str]]:
    found = []
    for step in transcript["steps"]:
        found += _command_lines(step["code"], shell=True)
        for text in [step["portal"], *step["lines"], *(c["claim"] for c in step["checks"])]:
            found += _command_lines(text, shell=False)
    return found


def _assert_all_parse(capsys: pytest.CaptureFixture[str], lines: list[list[str]], where: str) -> None:
    for argv in lines:
        code, text = _help(capsys, argv)
        assert code == 0 and text.startswith("Usage: mde"), f"{where}: mde {shlex.join(argv)}\n{text}"


def test_every_command_line_in_the_readme_parses(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _readme_lines()
    shown = {" ".join(argv[:2]) for argv in lines}
    assert len(lines) >= 30
    assert {
        "machines isolate",
        "emulator requests",
        "emulator env",
        "token verify",
        "hunt DeviceProcessEvents",
    } <= {s.split(" |")[0] for s in shown}
    _assert_all_parse(capsys, lines, "README.md")


def test_every_command_line_the_demo_shows_parses(
    capsys: pytest.CaptureFixture[str], demo_transcript: dict[str, Any]
) -> None:
    lines = _demo_lines(demo_transcript)
    assert ["token", "verify", "--role", "Alert.Read.All"] in lines  # step 7
    assert any(argv[:2] == ["profile", "add"] for argv in lines)  # step 4's note
    _assert_all_parse(capsys, lines, "mde demo")


def test_an_option_that_does_not_exist_is_caught(capsys: pytest.CaptureFixture[str]) -> None:
    # what step 7 of the demo used to show: the check above would have failed on it
    assert _segments("mde token verify --require-role Alert.Read.All < token.txt") == [
        ["token", "verify", "--require-role", "Alert.Read.All"]
    ]
    code, text = _help(capsys, ["token", "verify", "--require-role", "Alert.Read.All"])
    assert code == 2 and "No such option" in text
