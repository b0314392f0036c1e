"""`mde doctor` against the emulator: a good set-up passes; each broken piece is named with its fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from cli_helpers import AppEnv, Result, make_app


def _by_check(result: Result) -> dict[str, dict[str, str]]:
    return {row["check"]: row for row in result.json()}


def test_good_configuration_passes(mde: Callable[..., Result]) -> None:
    result = mde("doctor", "--need", "alerts.list,actions.isolate", "-o", "json")
    assert result.code == 0, result.out + result.err
    checks = _by_check(result)
    assert {"profile", "login host", "API host", "token", "audience", "issuer", "roles"} <= set(checks)
    assert all(row["result"] in ("PASS", "SKIP") for row in checks.values())
    assert checks["call alerts"]["result"] == "PASS"


def test_wrong_secret_names_7000215_and_the_fix(mde: Callable[..., Result]) -> None:
    result = mde("doctor", "-o", "json", env={"AZURE_CLIENT_SECRET": "not-the-secret-value"})
    assert result.code == 3
    token = _by_check(result)["token"]
    assert token["result"] == "FAIL" and "7000215" in token["detail"]
    assert "VALUE" in token["fix"] and "not its ID" in token["fix"]


def test_missing_role_is_named(mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client) -> None:
    app_id, secret = make_app(control, app_env.tenant, ["Alert.Read.All"], name="reader")
    app_env.secrets.append(secret)
    env = {"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}
    result = mde("doctor", "--need", "alerts.list,actions.isolate", "-o", "json", env=env)
    assert result.code == 4
    checks = _by_check(result)
    assert checks["need alerts.list"]["result"] == "PASS"
    assert checks["need actions.isolate"]["result"] == "FAIL"
    assert "Machine.Isolate" in checks["need actions.isolate"]["detail"]
    assert "Grant admin consent" in checks["need actions.isolate"]["fix"]
    assert checks["call machines"]["result"] == "SKIP"


def test_untrusted_tls_fails_without_skipping_verification(mde: Callable[..., Result]) -> None:
    result = mde("doctor", "-o", "json", env={"MDEKIT_CA_BUNDLE": ""})
    assert result.code == 1
    host = _by_check(result)["login host"]
    assert host["result"] == "FAIL" and "does not verify" in host["detail"]
    assert "token" not in _by_check(result)  # nothing sent over an unverified connection


def test_no_configuration_says_what_to_set(mde: Callable[..., Result]) -> None:
    result = mde("doctor", "-o", "json", env={"AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": ""})
    assert result.code == 2
    assert "mde profile add" in _by_check(result)["profile"]["fix"]


def test_unknown_need_is_refused(mde: Callable[..., Result]) -> None:
    result = mde("doctor", "--need", "alerts.explode")
    assert result.code == 2 and "unknown operation" in result.err


def test_needs_on_other_apis_are_checked_with_their_own_token(
    mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client
) -> None:
    from mdekit.catalog import MTP

    roles: list[Any] = ["Alert.Read.All", {"resource": MTP.identifier_uris[0], "role": "Incident.Read.All"}]
    app_id, secret = make_app(control, app_env.tenant, roles, name="incident reader")
    app_env.secrets.append(secret)
    env = {"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}
    need = "incidents.list,graph_incidents.update"
    result = mde("doctor", "--need", need, "--no-calls", "-o", "json", env=env)
    assert result.code == 4, result.out + result.err
    checks = _by_check(result)
    # Incident.Read.All is on the Threat Protection token, not the Defender API token
    assert checks["need incidents.list"]["result"] == "PASS", checks["need incidents.list"]
    assert "Microsoft Threat Protection" in checks["need incidents.list"]["detail"]
    graph = checks["need graph_incidents.update"]
    assert graph["result"] == "FAIL" and "SecurityIncident.ReadWrite.All" in graph["detail"]
