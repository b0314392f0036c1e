"""The control plane checks a change before applying it, and never applies half of one (issue 13).

Before: ``POST /_emulator/clock {"advanceSeconds": 1e12}`` answered 500 *and* moved the clock,
after which every endpoint answered 500 (and kept doing so after a restart); an app whose
certificate was refused was created anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mdekit.emulator.clock import parse_time
from mdekit.emulator.state import EmulatorState


def _now(control: httpx.Client) -> datetime:
    return parse_time(control.get("/_emulator/clock").json()["now"])


def _still_serving(control: httpx.Client, app: Any) -> None:
    """A token, an API list and the JWKS all answer."""
    headers = app.headers()
    assert control.get("/api/alerts", headers=headers).status_code == 200
    assert control.get("/common/discovery/keys").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"advanceSeconds": 1e12},
        {"advanceSeconds": -1e12},
        {"advanceSeconds": 10_000 * 365 * 86400},
        {"advanceSeconds": "60"},
        {"advanceSeconds": True},
        {"now": "9999-12-31T23:59:59Z"},
        {"now": "0001-01-01T00:00:00Z"},
        {"now": "1970-01-01"},
        {"now": 1_900_000_000},
        {"now": "2030-01-01T00:00:00Z", "advanceSeconds": 60},
        {"nowish": "2030-01-01"},
    ],
)
def test_a_refused_clock_change_changes_nothing(
    control: httpx.Client, make_app: Callable[..., Any], body: dict[str, Any]
) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    before = _now(control)
    r = control.post("/_emulator/clock", json=body)
    assert r.status_code == 400, r.text
    assert isinstance(r.json()["detail"], str)
    assert abs((_now(control) - before).total_seconds()) < 60
    _still_serving(control, app)


def test_the_clock_moves_to_the_edges_of_its_range_and_everything_still_answers(
    control: httpx.Client, make_app: Callable[..., Any]
) -> None:
    for when in ("8999-06-01T00:00:00Z", "1981-01-01T00:00:00Z"):
        r = control.post("/_emulator/clock", json={"now": when})
        assert r.status_code == 200, r.text
        assert r.json()["now"].startswith(when[:10])
        # a new app: the one made at real time has a secret that is not valid then
        _still_serving(control, make_app(permissions=["Alert.Read.All"], tenant=None))


def test_an_out_of_range_clock_saved_by_an_earlier_version_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    state = EmulatorState.open(path)
    state.db.set_meta("clock_offset", 1e12)  # what `advanceSeconds: 1e12` used to leave behind
    state.close()
    reopened = EmulatorState.open(path)
    try:
        assert abs((reopened.clock.now() - datetime.now(UTC)).total_seconds()) < 60
    finally:
        reopened.close()


def _apps(control: httpx.Client, tid: str) -> list[Any]:
    return list(control.get(f"/_emulator/tenants/{tid}/applications").json()["value"])


@pytest.mark.parametrize(
    "extra",
    [
        {"certificatePem": "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----"},
        {"certificatePem": 12},
        {"endDateTime": "never"},
        {"endDateTime": "9999-12-31T00:00:00Z"},
        {"permissions": ["Alert.Read.All", "No.Such.Role"]},
        {"redirectUris": "https://one.example"},
        {"displayName": ["x"]},
        {"secret": "yes"},
    ],
)
def test_a_refused_app_registration_creates_nothing(
    control: httpx.Client, make_tenant: Callable[..., dict[str, Any]], extra: dict[str, Any]
) -> None:
    tid = make_tenant("Atomic")["tenantId"]
    body = {"displayName": "half", "permissions": ["Alert.Read.All"], **extra}
    r = control.post(f"/_emulator/tenants/{tid}/applications", json=body)
    assert r.status_code == 400, r.text
    assert _apps(control, tid) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/actions", {"pendingSeconds": 1e300}),
        ("/_emulator/actions", {"runSeconds": 1e15}),
        ("/_emulator/actions", {"pendingSeconds": 5, "outcome": "Maybe"}),
        ("/_emulator/throttling", {"scale": 1e308}),
        ("/_emulator/throttling", {"scale": 1e-300}),
        ("/_emulator/throttling", {"enabled": False, "clear": "yes"}),
    ],
)
def test_refused_settings_change_nothing(
    control: httpx.Client, make_app: Callable[..., Any], path: str, body: dict[str, Any]
) -> None:
    app = make_app(permissions=["Alert.Read.All", "Machine.Scan", "Machine.Read.All"])
    before = control.get(path).json()
    r = control.post(path, json=body)
    assert r.status_code == 400, r.text
    assert control.get(path).json() == before
    _still_serving(control, app)
