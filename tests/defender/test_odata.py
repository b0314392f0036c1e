"""$filter parsing and compilation: the documented forms work, anything else is a named ODataError."""

from __future__ import annotations

import re
import sqlite3

import pytest

from mdekit.emulator.defender.enums import MACHINE_FIELDS
from mdekit.emulator.defender.listing import parse_list_query
from mdekit.emulator.defender.odata import ODataError, compile_filter


@pytest.mark.parametrize(
    ("text", "sql", "params"),
    [
        ("lastSeen gt 2018-08-01Z", "last_seen > ?", ["2018-08-01T00:00:00.0000000Z"]),
        ("LastSeen ge 2019-11-22T00:00:00Z", "last_seen >= ?", ["2019-11-22T00:00:00.0000000Z"]),
        ("healthStatus eq 'active'", "health_status = ?", ["Active"]),
        ("riskScore ne 'High'", "risk_score IS NOT ?", ["High"]),
        ("rbacGroupId le 3", "rbac_group_id <= ?", [3]),
        ("computerDnsName eq null", "computer_dns_name IS NULL", []),
        (
            "machineTags eq 'It''s'",
            "EXISTS (SELECT 1 FROM json_each(machine_tags) WHERE value = ? COLLATE NOCASE)",
            ["It's"],
        ),
        ("startswith(computerDnsName,'desk_1%')", "computer_dns_name LIKE ? ESCAPE '\\'", ["desk\\_1\\%%"]),
        ("healthStatus in ('Active','inactive')", "health_status IN (?, ?)", ["Active", "Inactive"]),
        (
            "machineTags/any(tag: tag eq 'X')",
            "EXISTS (SELECT 1 FROM json_each(machine_tags) WHERE value COLLATE NOCASE = ?)",
            ["X"],
        ),
        ("machineTags/any()", "EXISTS (SELECT 1 FROM json_each(machine_tags))", []),
    ],
)
def test_documented_forms_compile_to_parameterised_sql(text: str, sql: str, params: list[object]) -> None:
    assert compile_filter(text, MACHINE_FIELDS, "Machines") == (sql, params)


def test_boolean_structure_and_precedence() -> None:
    sql, params = compile_filter(
        "not (osPlatform eq 'Linux') and (riskScore eq 'High' or startswith(version,'2')) or "
        "rbacGroupId eq 1",
        MACHINE_FIELDS,
        "Machines",
    )
    assert sql == (
        "((NOT (os_platform = ?) AND (risk_score = ? OR version LIKE ? ESCAPE '\\')) OR rbac_group_id = ?)"
    )
    assert params == ["Linux", "High", "2%", 1]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("bogus eq 1", "'bogus' is not filterable"),
        ("healthStatus eq 'Sleeping'", "not a valid value"),
        ("healthStatus eq", "ends unexpectedly"),
        ("healthStatus in ()", "expected a literal value"),
        ("healthStatus/any(t: t eq 'Active')", "not a collection"),
        ("healthStatus eq 'Active' extra", "unexpected 'extra'"),
        ("(healthStatus eq 'Active'", "expected ')'"),
        ("substringof('a', computerDnsName)", "Unknown function"),
        ("rbacGroupId eq 'x'", "cannot be compared"),
        ("lastSeen gt 2018-13-45Z", "not a valid date/time"),
        ("healthStatus gt 'Active'", "supports only eq and ne"),
        ("computerDnsName eq 'a' ; drop table x", "unexpected ';'"),
        ("", "empty"),
        ("rbacGroupId eq 99999999999999999999999", "out of range"),
    ],
)
def test_bad_filters_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ODataError, match=re.escape(problem)):
        compile_filter(text, MACHINE_FIELDS, "Machines")


def test_values_are_never_spliced_into_sql() -> None:
    hostile = "x' OR '1'='1"
    sql, params = compile_filter(
        f"computerDnsName eq '{hostile.replace(chr(39), chr(39) * 2)}'", MACHINE_FIELDS, "Machines"
    )
    assert hostile not in sql and params == [hostile]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (computer_dns_name TEXT)")
    db.execute("INSERT INTO t VALUES ('a')")
    assert db.execute(f"SELECT COUNT(*) FROM t WHERE {sql}", params).fetchone()[0] == 0


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"$top": "10001"}, "limit of '10000'"),
        ({"$top": "-1"}, "non-negative"),
        ({"$skip": "x"}, "non-negative"),
        ({"$orderby": "bogus"}, "Could not find a property named 'bogus'"),
        ({"$orderby": "machineTags"}, "cannot be used in the $orderby"),
        ({"$select": "id,bogus"}, "Could not find a property named 'bogus'"),
        ({"$count": "yes"}, "not a valid count option"),
        ({"$apply": "x"}, "Custom query option '$apply' that starts with '$' is not supported"),
        ({"$skip": "²"}, "non-negative"),  # str.isdigit() is True, int() refuses it
        ({"$top": "٣"}, "non-negative"),
        ({"$expand": "machine"}, "Invalid $expand"),
        ({"$skip": "99999999999999999999"}, "too large"),
    ],
)
def test_bad_list_options(params: dict[str, str], problem: str) -> None:
    with pytest.raises(ODataError, match=re.escape(problem)):
        parse_list_query(params, MACHINE_FIELDS, "Machines")


def test_vulnerability_style_lower_top_limit() -> None:
    with pytest.raises(ODataError, match="'8000'"):
        parse_list_query({"$top": "8001"}, {}, "Vulnerabilities", max_top=8000)
