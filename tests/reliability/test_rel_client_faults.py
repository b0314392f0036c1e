"""The client under faults, over the real HTTPS socket (tests/client covers 429 storms on paging).

Listings through 5xx bursts, dropped connections, slow answers (client time-outs) and a token that
expires between pages must return exactly the server's ids: nothing lost, nothing twice. Machine
actions sent through the same faults -- including the ambiguous case where the server created the
action but the answer never arrived -- are never duplicated.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mdekit.client.defender import Defender
from mdekit.client.retry import RetryPolicy
from mdekit.emulator.server import EmulatorServer
from mdekit.errors import MdeError, TransportError

ROLES = ["Alert.Read.All", "Machine.Read.All", "Machine.Isolate", "Machine.Scan"]
ALERTS, PAGE = 1200, 100


@pytest.fixture
def tenant(emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any]) -> dict[str, Any]:
    app = make_app(permissions=ROLES)
    r = control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 12, "alerts": ALERTS})
    assert r.status_code == 200, r.text
    control.post("/_emulator/throttling", json={"enabled": False})
    with _client(emu, app) as client:
        ids = [a.id for a in client.alerts.list()]
    assert len(ids) == ALERTS
    return {"app": app, "ids": ids}


def _client(emu: EmulatorServer, app: Any, **kw: Any) -> Defender:
    kw.setdefault("retry", RetryPolicy(max_attempts=8, backoff=0.01, max_backoff=0.05))
    return Defender.from_secret(
        app["tenantId"],
        app["appId"],
        app["secret"],
        base_url=emu.url,
        authority=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        rate_limit=False,
        **kw,
    )


@pytest.fixture
def faults(control: httpx.Client) -> Iterator[Callable[..., str]]:
    def add(**plan: Any) -> str:
        r = control.post("/_emulator/faults", json=plan)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    yield add
    control.delete("/_emulator/faults")


def _fired(control: httpx.Client) -> int:
    return sum(p["fired"] for p in control.get("/_emulator/faults").json()["value"])


LIST_FAULTS = {
    "5xx-bursts": [
        {"path": "/api/alerts", "status": 503, "every": 3},
        {"path": "/api/alerts", "status": 500, "nth": 5},
    ],
    "dropped-connections": [{"path": "/api/alerts", "drop": True, "every": 4}],
    "slow-answers-time-out": [{"path": "/api/alerts", "delaySeconds": 1.5, "every": 5, "count": 2}],
    "429-with-retry-after": [{"path": "/api/alerts", "status": 429, "retryAfter": 0, "every": 2}],
}


@pytest.mark.parametrize("name", sorted(LIST_FAULTS))
def test_listing_through_faults_is_exact(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any], faults: Callable[..., str], name: str
) -> None:
    for plan in LIST_FAULTS[name]:
        faults(**plan)
    with _client(emu, tenant["app"], timeout=0.75) as client:
        ids = [a.id for a in client.alerts.list(page_size=PAGE)]
    assert _fired(control) >= 2, "the faults must actually have hit the listing"
    assert len(ids) == len(set(ids)) == ALERTS
    assert ids == tenant["ids"]


def test_token_expiry_between_pages(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    """The server's clock jumps 2 h mid-listing: its 401 makes the client fetch a new token, once.

    (The journal is cleared before the listing: the pager asks for page 2 while page 1 is handed
    over, so the 401 may answer that request, sent before or after the jump.)
    """
    with _client(emu, tenant["app"]) as client:
        control.delete("/_emulator/requests")
        pages = client.alerts.list(page_size=PAGE).pages()
        ids = [a.id for a in next(pages).items]
        before = client.token_requests
        emu.state.clock.advance(2 * 3600)  # the client's own clock does not know
        ids += [a.id for page in pages for a in page.items]
        assert client.token_requests == before + 1
    statuses = [
        e["status"] for e in control.get("/_emulator/requests").json()["value"] if e["path"] == "/api/alerts"
    ]
    assert statuses.count(401) == 1
    assert ids == tenant["ids"]


ACTION_FAULTS = {
    "500-before-the-route": {"status": 500, "count": 2},
    "503-burst": {"status": 503, "count": 4},
    "dropped-before-the-route": {"drop": True, "count": 2},
    # the emulator creates the action, then the connection drops before the answer: the client
    # must find the created action, not send the POST again
    "answer-lost-after-create": {"dropAfterCommit": True, "count": 1},
    # the client times out first; the server drops the late request when it reads the body
    "client-times-out-first": {"delaySeconds": 1.5, "count": 1},
}


def _journal(control: httpx.Client, method: str, path_prefix: str) -> list[int]:
    """Statuses of the journalled *method* requests under *path_prefix* (0: no answer was sent)."""
    entries = control.get("/_emulator/requests").json()["value"]
    return [e["status"] for e in entries if e["method"] == method and e["path"].startswith(path_prefix)]


def _isolate_through(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any], faults: Callable[..., str], plan: Any
) -> tuple[Any, list[Any], list[int]]:
    """Isolate one machine through fault *plan*: (returned action or None, Isolate actions, POST statuses)."""
    control.post("/_emulator/actions", json={"pendingSeconds": 3600, "runSeconds": 60})  # stays Pending
    with _client(emu, tenant["app"], timeout=0.75) as client:
        machine = next(iter(client.machines.list(limit=1))).id
        faults(method="POST", path=f"/api/machines/{machine}/*", **plan)
        control.delete("/_emulator/requests")
        try:
            action = client.actions.isolate(machine, "fault test")
        except MdeError:
            action = None
        emu.state.clock.freeze()
        if plan.get("delaySeconds"):
            import time

            time.sleep(1.0)  # let the late request finish on the server
        listed = [a for a in client.actions.list() if a.machine_id == machine and a.type == "Isolate"]
    return action, listed, _journal(control, "POST", f"/api/machines/{machine}/")


@pytest.mark.parametrize("name", sorted(ACTION_FAULTS))
def test_actions_are_never_duplicated(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any], faults: Callable[..., str], name: str
) -> None:
    action, listed, posts = _isolate_through(emu, control, tenant, faults, ACTION_FAULTS[name])
    assert _fired(control) >= 1
    assert len(listed) == 1, [a.id for a in listed]
    assert action is not None and action.id == listed[0].id
    if name == "answer-lost-after-create":
        assert posts == [0]  # one POST, handled (the action exists) but never answered; not sent again
        assert action.reused


def test_answer_lost_after_create_needs_the_pending_lookup(
    emu: EmulatorServer,
    control: httpx.Client,
    tenant: dict[str, Any],
    faults: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Control for the case above: without the pending-action look-up the same fault makes the client
    send the POST again (so that test really reaches the case it names)."""
    from mdekit.client import flow

    def no_lookup(call: Any, opts: Any) -> Iterator[Any]:
        return None
        yield  # a flow that finds nothing

    monkeypatch.setattr(flow, "find_pending", no_lookup)
    action, listed, posts = _isolate_through(
        emu, control, tenant, faults, ACTION_FAULTS["answer-lost-after-create"]
    )
    # replayed: the service refuses the duplicate (ActiveRequestAlreadyExists); a dropped request is
    # journalled before its connection closes, so the order is the order of sending
    assert posts == [0, 400]
    assert action is None and len(listed) == 1


def _alert_client(
    emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any]
) -> tuple[Any, str]:
    app = make_app(permissions=["Alert.ReadWrite.All"])
    r = control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 2, "alerts": 3})
    assert r.status_code == 200, r.text
    client = _client(emu, app, timeout=0.75)
    return client, next(iter(client.alerts.list(limit=1))).id


@pytest.mark.parametrize(
    "plan",
    [{"delaySeconds": 1.5, "count": 1}, {"dropAfterCommit": True, "count": 1}],
    ids=["answer-later-than-the-read-timeout", "answer-lost-after-commit"],
)
def test_patch_with_a_comment_is_not_replayed_after_an_ambiguous_failure(
    emu: EmulatorServer,
    control: httpx.Client,
    make_app: Callable[..., Any],
    faults: Callable[..., str],
    plan: dict[str, Any],
) -> None:
    """A read timeout or a lost answer on a PATCH: the service may have added the comment already,
    so the client reports the failure instead of sending it again (the real service would add it twice)."""
    client, alert_id = _alert_client(emu, control, make_app)
    with client:
        faults(method="PATCH", path=f"/api/alerts/{alert_id}", **plan)
        control.delete("/_emulator/requests")
        with pytest.raises(TransportError) as info:
            client.alerts.update(alert_id, comment="seen by automation")
        assert info.value.sent
        if plan.get("delaySeconds"):
            import time

            time.sleep(1.0)  # the late request reaches the route now
        comments = [c.comment for c in client.alerts.get(alert_id).comments or []]
    assert len(_journal(control, "PATCH", "/api/alerts/")) == 1
    assert comments.count("seen by automation") == (1 if plan.get("dropAfterCommit") else 0)


def test_patch_is_retried_when_it_provably_never_left(make_app: Callable[..., Any]) -> None:
    """Connection refused: the request never reached a service, so even a PATCH is retried."""
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(permissions=["Alert.ReadWrite.All"])
    slept: list[float] = []
    client = Defender.from_secret(
        app["tenantId"],
        app["appId"],
        app["secret"],
        base_url=f"https://127.0.0.1:{port}",
        authority=app["url"],
        verify=ssl.create_default_context(cafile=app["caCert"]),
        rate_limit=False,
        retry=RetryPolicy(max_attempts=3, backoff=0.01, jitter=False),
        sleep=slept.append,
    )
    with client, pytest.raises(TransportError) as info:
        client.alerts.update("da637000000000000000_1", comment="x")
    assert not info.value.sent and "ConnectError" in str(info.value)
    assert len(slept) == 2  # three attempts
