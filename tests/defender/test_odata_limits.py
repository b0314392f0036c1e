"""Long and deep ``$filter``s (issue 13): id lists of thousands of terms work, beyond the limits a 400.

Before: ~70 ``or`` terms overflowed SQLite's parser stack (500), 100 ``and``s or 500 ``not``s
raised ``RecursionError`` (500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from defender_helpers import Api

from mdekit.emulator.defender.enums import MACHINE_FIELDS
from mdekit.emulator.defender.listing import ListQuery, parse_list_query
from mdekit.emulator.defender.odata import ODataError
from mdekit.emulator.limits import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_TERMS
from mdekit.emulator.state import EmulatorState


@pytest.fixture
def api(api_for: Callable[..., Api], seeded: str) -> Api:
    return api_for(seeded, ["Machine.Read.All", "Alert.Read.All"])


def _ids(api: Api, path: str, **params: str) -> list[str]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text[:500]
    return [item["id"] for item in r.json()["value"]]


def _odata_error(api: Api, path: str, text: str) -> dict[str, Any]:
    r = api.get(path, params={"$filter": text})
    assert r.status_code == 400, r.text[:500]
    error = r.json()["error"]
    assert error["code"] == "ODataError" and error["target"] == r.headers["request-id"]
    assert len(r.text) < 2_000  # the filter is not echoed back whole
    return dict(error)


def _id_list(wanted: list[str], terms: int) -> str:
    ids = (wanted + [f"{n:040x}" for n in range(terms)])[:terms]
    return " or ".join(f"id eq '{i}'" for i in ids)


@pytest.mark.parametrize("terms", [70, 1_000])
def test_an_id_list_of_a_thousand_terms_works(api: Api, terms: int) -> None:
    # 1,000 machine ids is ~60 KB of URL: about what httpx (64 KB) and common servers carry
    wanted = _ids(api, "/api/machines", **{"$top": "7"})
    assert sorted(_ids(api, "/api/machines", **{"$filter": _id_list(wanted, terms)})) == sorted(wanted)


def test_the_longest_supported_id_list_runs_in_sqlite(state: EmulatorState, seeded: str) -> None:
    # MAX_FILTER_TERMS does not fit in an httpx URL: run the parsed query on the store directly
    machines = state.defender.machines
    wanted = [m["id"] for m in machines.page(seeded, ListQuery(top=5))[0]]
    query = parse_list_query({"$filter": _id_list(wanted, MAX_FILTER_TERMS)}, MACHINE_FIELDS, "Machines")
    assert len(query.params) == MAX_FILTER_TERMS
    assert sorted(m["id"] for m in machines.page(seeded, query)[0]) == sorted(wanted)


def test_a_long_mixed_or_chain_works(api: Api) -> None:
    # different properties and functions: no single IN list, the SQL is grouped instead
    alert = api.get("/api/alerts", params={"$top": "1"}).json()["value"][0]
    term = "(startswith(category,'zz{n}') or severity eq 'Informational' and id eq 'x{n}')"
    noise = [term.format(n=n) for n in range(600)]
    text = " or ".join([*noise, f"id eq '{alert['id']}'"])
    assert _ids(api, "/api/alerts", **{"$filter": text}) == [alert["id"]]


def test_long_and_and_not_chains_work(api: Api) -> None:
    everything = _ids(api, "/api/machines")
    ands = " and ".join(f"id ne '{n:040x}'" for n in range(1_000))
    assert _ids(api, "/api/machines", **{"$filter": ands}) == everything
    # 500 nots cancel out (an even count); 501 negate
    first = everything[0]
    assert _ids(api, "/api/machines", **{"$filter": "not " * 500 + f"id eq '{first}'"}) == [first]
    assert first not in _ids(api, "/api/machines", **{"$filter": "not " * 501 + f"id eq '{first}'"})
    # 100 ands on mixed columns
    mixed = " and ".join(["healthStatus ne 'Inactive'", "riskScore ne 'None'"] * 50)
    assert set(_ids(api, "/api/machines", **{"$filter": mixed})) <= set(everything)


def test_a_literal_longer_than_sqlites_like_pattern_limit_is_no_500(api: Api) -> None:
    # SQLite refuses LIKE patterns over 50,000 bytes; the listing answers 200 or a 400, never a 500
    r = api.get("/api/machines", params={"$filter": "contains(computerDnsName,'" + "a" * 55_000 + "')"})
    assert r.status_code in (200, 400), r.text[:300]
    assert "value" in r.json() or r.json()["error"]["code"] == "ODataError"


def test_ne_lists_keep_rows_whose_value_is_null(api: Api) -> None:
    everything = _ids(api, "/api/machines")
    text = "computerDnsName ne 'a' and computerDnsName ne 'b' and computerDnsName ne null"
    with_name = _ids(api, "/api/machines", **{"$filter": text})
    text = "computerDnsName ne 'a' and computerDnsName ne 'b'"
    assert _ids(api, "/api/machines", **{"$filter": text}) == everything
    assert set(with_name) <= set(everything)


def test_nesting_to_the_limit_runs_in_sqlite(state: EmulatorState, seeded: str) -> None:
    # the worst case for SQLite's parser stack: every level negated and too long for one SQL group
    # (too long for an httpx URL too: run the parsed query on the store)
    machines = state.defender.machines
    first = machines.page(seeded, ListQuery(top=1))[0][0]["id"]
    text = f"id eq '{first}'"
    filler = " or ".join(f"startswith(version,'z{n}')" for n in range(70))  # always false
    for level in range(MAX_FILTER_DEPTH):  # even levels keep the truth, odd ones negate it
        text = f"not ({text}) or ({filler})" if level % 2 else f"({text}) and not ({filler})"
    query = parse_list_query({"$filter": text}, MACHINE_FIELDS, "Machines")
    assert [m["id"] for m in machines.page(seeded, query)[0]] == [first]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("(" * (MAX_FILTER_DEPTH + 1) + "id eq 'a'" + ")" * (MAX_FILTER_DEPTH + 1), "nests deeper"),
        ("(" * 5_000 + "id eq 'a'" + ")" * 5_000, "nests deeper"),
        ("not (" * 5_000 + "id eq 'a'" + ")" * 5_000, "nests deeper"),
    ],
)
def test_beyond_the_limits_is_a_400_odata_error(api: Api, text: str, problem: str) -> None:
    assert problem in _odata_error(api, "/api/machines", text)["message"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (" or ".join(["id eq 'a'"] * (MAX_FILTER_TERMS + 1)), "more than"),
        ("id eq '" + "a" * MAX_FILTER_LENGTH + "'", "characters long"),
    ],
)
def test_beyond_the_size_limits_is_an_odata_error(text: str, problem: str) -> None:
    with pytest.raises(ODataError, match=problem):
        parse_list_query({"$filter": text}, MACHINE_FIELDS, "Machines")
