"""Fixtures for the Defender API tests: an in-process app, a seeded tenant and real tokens.

Tokens come from the emulator's own token endpoint (client credentials) for apps registered in
its directory; hand-minted tokens (``defender_helpers.mint``) cover expired/foreign cases.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from defender_helpers import ALL_ROLES, Api, mint, real_token, register_app
from fastapi.testclient import TestClient

from mdekit.emulator.app import create_app
from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState


@pytest.fixture(scope="session")
def _session_state() -> Iterator[EmulatorState]:
    # One state and app per session: building them (RSA key, routers) costs ~1 s.
    st = EmulatorState.open(None, clock=VirtualClock(frozen_at=time.time()))
    yield st
    st.close()


@pytest.fixture(scope="session")
def _session_client(_session_state: EmulatorState) -> Iterator[TestClient]:
    with TestClient(create_app(_session_state), base_url="https://api.securitycenter.microsoft.com") as c:
        yield c


@pytest.fixture
def state(_session_state: EmulatorState) -> EmulatorState:
    """The in-process emulator state, reset, on a frozen virtual clock set to now."""
    _session_state.reset()
    _session_state.clock.set(time.time())
    return _session_state


@pytest.fixture
def client(state: EmulatorState, _session_client: TestClient) -> TestClient:
    """The emulator app in process (host ``api.securitycenter.microsoft.com``)."""
    return _session_client


@pytest.fixture
def tenant(state: EmulatorState) -> str:
    """A tenant registered in the directory."""
    return state.directory.create_tenant("Contoso").id


@pytest.fixture
def seeded(state: EmulatorState, tenant: str) -> str:
    """*tenant* seeded with 40 machines and 200 alerts (seed 7)."""
    seed_tenant(state.defender, tenant, machines=40, alerts=200, seed=7)
    return tenant


@pytest.fixture
def api_for(state: EmulatorState, client: TestClient) -> Callable[..., Api]:
    """``api_for(tenant, roles=ALL_ROLES, name=..., real=False)`` -> an :class:`Api` for a new consented app.

    The token is signed by the emulator's key with the app's real ids; ``real=True`` fetches it from the
    token endpoint instead (slower: the directory hashes the client secret).
    """

    def make(
        tenant: str,
        roles: tuple[str, ...] | list[str] = ALL_ROLES,
        name: str = "mdekit tests",
        real: bool = False,
    ) -> Api:
        if real:
            return Api(client, real_token(client, state, tenant, roles, name))
        app_id = register_app(state, tenant, roles, name)
        return Api(client, mint(state, tenant, roles, app_id=app_id))

    return make


@pytest.fixture
def api(api_for: Callable[..., Api], seeded: str) -> Api:
    """Every MDE role on the seeded tenant."""
    return api_for(seeded)


@pytest.fixture
def control_timing(client: TestClient) -> Callable[[dict[str, Any]], Any]:
    """POST /_emulator/actions with a body; asserts success."""

    def post(body: dict[str, Any]) -> Any:
        r = client.post("/_emulator/actions", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    return post
