"""The one AADSTS explanation table covers every code the emulator can emit, and is the only one."""

from __future__ import annotations

import ast
from pathlib import Path

import mdekit
from mdekit.auth.credentials import AADSTS_HINTS, explain_aadsts
from mdekit.emulator.entra.errors import CODES, EntraError  # read-only: the emulator's own list

SRC = Path(mdekit.__file__).parent


def test_every_code_the_emulator_can_emit_has_one_explanation() -> None:
    assert sorted(set(CODES) - set(AADSTS_HINTS)) == []
    for code in CODES:
        hint = AADSTS_HINTS[code]
        assert hint and hint[0].islower() and not hint.endswith(".")  # reads inside "(hint: ...)"
        assert explain_aadsts(str(EntraError(code))) == hint  # found in Entra's own text
        assert explain_aadsts([code]) == hint  # and from error_codes


def _code_tables(path: Path) -> list[str]:
    tables = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, int)}
            if keys & set(CODES):
                tables.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return tables


def test_there_is_exactly_one_explanation_table() -> None:
    outside_emulator = [p for p in sorted(SRC.rglob("*.py")) if "emulator" not in p.relative_to(SRC).parts]
    tables = [t for p in outside_emulator for t in _code_tables(p)]
    assert len(tables) == 1 and tables[0].startswith("auth/credentials.py:"), tables


def test_unknown_codes_and_plain_text_have_no_explanation() -> None:
    assert explain_aadsts("no code here") is None
    assert explain_aadsts("AADSTS1: not a code we know") is None
    assert explain_aadsts("AADSTS1: x; then AADSTS7000222: expired") == AADSTS_HINTS[7000222]
