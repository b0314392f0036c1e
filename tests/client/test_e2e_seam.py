"""The family seam: a family declared in a few lines works on both clients, and every operation's
catalogue resource picks where it goes and which token (roles) it is pre-flighted with."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list, procedure
from mdekit.client.core import Call, make_call
from mdekit.client.defender import AsyncDefender, Defender
from mdekit.client.flow import Flow, GetToken, call_flow
from mdekit.errors import PermissionMissingError
from mdekit.models import Alert, Machine

# ---- a family as a new module would declare it -----------------------------------------------


def _machine(machine_id: str) -> Call[Machine]:
    """One machine."""
    return make_call("machines.get", Machine.model_validate, id=machine_id)


def _alerts(*, severity: str | None = None, limit: int | None = None) -> ListCall[Alert]:
    """Alerts, optionally of one severity."""
    flt = f"severity eq '{severity}'" if severity else None
    return make_list("alerts.list", Alert, {"$filter": flt}, page_size=None, limit=limit)


class Triage(Family[C]):
    """A made-up family: two endpoints and a flow that uses them (and a token) together."""

    machine = endpoint(_machine)
    alerts = listing(_alerts)

    def _machines_of(self, alert_ids: Sequence[str]) -> Flow[list[str]]:
        """The machine names of some alerts, plus the roles of the Graph token."""
        token = yield GetToken(GRAPH.name)
        names = []
        for alert_id in alert_ids:
            machine = yield from call_flow(
                make_call("alerts.machine", Machine.model_validate, id=alert_id), self._client.options
            )
            names.append(machine.computer_dns_name or "")
        return [*names, *token.roles]

    machines_of = procedure(_machines_of)


GRAPH_ROLE = {"resource": "https://graph.microsoft.com", "role": "ThreatHunting.Read.All"}


@pytest.fixture(scope="module")
def seeded(env: Any) -> dict[str, Any]:
    env.seed({"machines": 5, "alerts": 20})
    return env.app(["Alert.Read.All", "Machine.Read.All", GRAPH_ROLE])


def test_one_declaration_serves_the_sync_client(env: Any, seeded: dict[str, Any]) -> None:
    with env.client(seeded) as client:
        triage = Triage(client)
        high = triage.alerts(severity="High", limit=3).all()
        assert high and len(high) <= 3 and {a.severity for a in high} == {"High"}
        assert triage.machine(high[0].machine_id).id == high[0].machine_id
        names = triage.machines_of([a.id for a in high])
        assert names[-1] == "ThreatHunting.Read.All" and all(n for n in names[:-1])
        assert triage.machines_of.__name__ == "machines_of" and "machine names" in (
            triage.machines_of.__doc__ or ""
        )


async def test_one_declaration_serves_the_async_client(env: Any, seeded: dict[str, Any]) -> None:
    async with env.aclient(seeded) as client:
        triage = Triage(client)
        high = [a async for a in triage.alerts(severity="High", limit=3)]
        assert high and {a.severity for a in high} == {"High"}
        assert (await triage.machine(high[0].machine_id)).id == high[0].machine_id
        names = await triage.machines_of([high[0].id])
        assert names[-1] == "ThreatHunting.Read.All"


def test_preflight_reads_the_roles_of_each_resource_token(env: Any, seeded: dict[str, Any]) -> None:
    """An app with only a Graph role: the Graph operation is sent, the Defender and XDR ones are
    refused before sending, each naming its own resource and the roles of its own token."""
    app = env.app([GRAPH_ROLE])
    env.control.delete("/_emulator/requests")
    with env.client(app) as client:
        assert client.hunting.run("DeviceInfo | take 1", api="graph").api == "graph"
        for api, resource, role in (
            ("mde", MDE.name, "AdvancedQuery.Read.All"),
            ("xdr", MTP.name, "AdvancedHunting.Read.All"),
        ):
            with pytest.raises(PermissionMissingError) as info:
                client.hunting.run("DeviceInfo", api=api)
            assert info.value.required == (role,) and info.value.granted == ()
            assert f"→ {resource} →" in str(info.value) and "not sent" in str(info.value)
        scopes = {client.token_provider(r.resource).scope for r in client.routes}
        assert scopes == {r.scope for r in client.routes}  # one token provider per resource
    paths = [e["path"] for e in env.control.get("/_emulator/requests").json()["value"] if "/run" in e["path"]]
    assert paths == ["/v1.0/security/runHuntingQuery"]


# ---- ownership: whoever creates an httpx client or transport closes it --------------------------


class _Counting(httpx.HTTPTransport):
    """A real socket transport that counts how often it is closed."""

    closed = 0

    def close(self) -> None:
        self.closed += 1
        super().close()


class _AsyncCounting(httpx.AsyncHTTPTransport):
    closed = 0

    async def aclose(self) -> None:
        self.closed += 1
        await super().aclose()


def _tls(env: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(env.server.ca_cert))


def _kwargs(env: Any, **kw: Any) -> dict[str, Any]:
    url = env.server.url
    return {"base_url": url, "authority": url, "verify": _tls(env), "rate_limit": False, **kw}


def test_closing_the_client_leaves_a_callers_transports_open(env: Any, seeded: dict[str, Any]) -> None:
    api, tokens = _Counting(verify=_tls(env)), _Counting(verify=_tls(env))
    app = (seeded["tenant"], seeded["appId"], seeded["secret"])
    try:
        with Defender.from_secret(*app, **_kwargs(env, transport=api, token_transport=tokens)) as client:
            assert client.machines.list(limit=1).all()
        assert (api.closed, tokens.closed) == (0, 0)  # the client closed only what it opened
        with httpx.Client(transport=api, base_url=env.server.url) as again:  # its owner closes it
            assert again.get("/common/discovery/keys").status_code == 200
    finally:
        api.close()
        tokens.close()
    assert api.closed >= 1 and tokens.closed == 1


async def test_closing_the_async_client_leaves_a_callers_transport_open(
    env: Any, seeded: dict[str, Any]
) -> None:
    api = _AsyncCounting(verify=_tls(env))
    app = (seeded["tenant"], seeded["appId"], seeded["secret"])
    try:
        async with AsyncDefender.from_secret(*app, **_kwargs(env, transport=api)) as client:
            assert [m async for m in client.machines.list(limit=1)]
        assert api.closed == 0
        async with httpx.AsyncClient(transport=api, base_url=env.server.url) as again:  # its owner closes it
            assert (await again.get("/common/discovery/keys")).status_code == 200
    finally:
        await api.aclose()
    assert api.closed >= 1


def test_the_client_closes_the_credential_it_made_never_one_passed_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mdekit.auth.credentials import ClientSecretCredential

    closed: list[str] = []
    monkeypatch.setattr(ClientSecretCredential, "close", lambda self: closed.append(self.client_id))
    with Defender.from_secret("t", "made", "s3cret-value", base_url="https://127.0.0.1:1"):
        pass
    assert closed == ["made"]
    mine = ClientSecretCredential("t", "mine", "s3cret-value")
    with Defender(mine, base_url="https://127.0.0.1:1"):
        pass
    assert closed == ["made"]  # the caller's credential stays open
    with mine:  # credentials are context managers too (azure-identity shape)
        pass
    assert closed == ["made", "mine"]
