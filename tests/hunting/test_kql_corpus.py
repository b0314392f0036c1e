"""The KQL corpus: every query's rows checked against independently computed expectations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kql_corpus import CASES as BASE_CASES
from kql_corpus import Case
from kql_corpus_more import CASES as MORE_CASES
from kql_dataset import NOW, load, us

from mdekit.emulator.hunting.engine import run_query
from mdekit.emulator.hunting.store import new_database

CASES = [*BASE_CASES, *MORE_CASES]


@pytest.fixture(scope="module")
def conn() -> Iterator[Any]:
    c = new_database()
    load(c)
    yield c
    c.close()


def _norm(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for row in rows:
        fixed = {
            k: sorted(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else v
            for k, v in row.items()
        }
        fixed = {k: round(v, 6) if isinstance(v, float) else v for k, v in fixed.items()}
        out.append(repr(list(fixed.items())))
    return out


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 120
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_query(conn: Any, case: Case) -> None:
    result = run_query(conn, case.query, us(NOW))
    expected = case.expected()
    got, want = _norm(result.rows), _norm(expected)
    if not case.ordered:
        got, want = sorted(got), sorted(want)
    assert got == want
    if expected:
        assert [c.name for c in result.columns] == list(expected[0].keys())
