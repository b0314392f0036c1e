"""The list hot path (issue 19): small pages answered on the event loop, rows in their remembered
answer form - the same answers as the general path, current after every write."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import anyio.to_thread
import orjson
import pytest
from defender_helpers import Api

from mdekit.emulator.app import create_app
from mdekit.emulator.defender.answers import AnswerForms
from mdekit.emulator.defender.fastlist import _bounded, _workers_idle
from mdekit.emulator.state import EmulatorState


@pytest.mark.parametrize(
    ("query", "bounded"),
    [
        ("$top=100", True),
        ("$TOP=1000&$skip=1000", True),
        ("$top=5&$format=json", True),
        ("", False),  # a default page holds up to 10,000 items
        ("$top=1001", False),
        ("$top=10&$skip=5000", False),
        ("$top=10&$filter=status eq 'New'", False),
        ("$top=10&$orderby=lastSeen", False),
        ("$top=10&$count=true", False),
        ("$top=10&$select=id", False),
        ("$top=10&$expand=evidence", False),
        ("$top=x", False),
        ("$top=%C2%B2", False),  # '²' passes str.isdigit()
        ("$skip=10", False),
        ("$top=" + "9" * 5000, False),  # more digits than int() converts
        ("$top=0000000000100", False),  # leading zeros: the general path parses it
    ],
)
def test_which_pages_are_answered_on_the_event_loop(query: str, bounded: bool) -> None:
    assert _bounded(query.encode()) is bounded


def _paths(api: Api, query: str) -> tuple[Any, Any]:
    """The same page by the bounded path and by the general one (a filter every row matches)."""
    small = api.get(f"/api/machines?{query}")
    general = api.get(f"/api/machines?{query}&$filter=id ne 'none'")
    assert small.status_code == general.status_code == 200
    return small, general


def test_a_huge_top_gets_the_services_400_not_a_500(api: Api) -> None:
    r = api.get("/api/machines?$top=" + "9" * 5000)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ODataError"  # as for any bad $top


def test_bounded_and_general_paths_answer_alike(api: Api) -> None:
    small, general = _paths(api, "$top=7&$skip=3")
    assert small.content == general.content
    assert small.headers["content-type"] == general.headers["content-type"]
    assert len(small.json()["value"]) == 7


def test_rows_are_current_after_a_write(api: Api) -> None:
    first = api.get("/api/machines?$top=3").json()["value"][1]
    body = {"Value": "hot-path", "Action": "Add"}
    assert api.post(f"/api/machines/{first['id']}/tags", body).status_code == 200
    again = api.get("/api/machines?$top=3").json()["value"][1]
    assert again["machineTags"] == [*first["machineTags"], "hot-path"]
    assert {k: v for k, v in again.items() if k != "machineTags"} == {
        k: v for k, v in first.items() if k != "machineTags"
    }


def test_a_pending_action_completes_when_due_seen_by_the_next_small_page(
    api: Api, state: EmulatorState
) -> None:
    state.defender.actions.timing.set(None, 30, 60, "Succeeded")
    machine = api.get("/api/machines?$top=1").json()["value"][0]
    r = api.post(f"/api/machines/{machine['id']}/runAntiVirusScan", {"Comment": "scan"})
    assert r.status_code == 201
    action_id = r.json()["id"]

    def status() -> str:
        page = api.get("/api/machineactions?$top=10").json()["value"]
        return str(next(a["status"] for a in page if a["id"] == action_id))

    assert status() == "Pending"
    state.clock.advance(31)
    assert status() == "InProgress"
    state.clock.advance(60)
    assert status() == "Succeeded"


def test_answer_forms_follow_the_stored_text() -> None:
    forms = AnswerForms(limit=2)
    stored = '{"at":"2026-01-02T03:04:05.1200000Z","n":1}'

    def one(text: str, n: int = 1) -> bytes:
        return orjson.dumps(forms.rendered([{"data": text, "n": n}])[0])

    assert b'"2026-01-02T03:04:05.12Z"' in one(stored)
    assert one(stored.replace("05.12", "06.5")) == b'{"at":"2026-01-02T03:04:06.5Z","n":1}'
    assert one(stored, 2) == one(stored, 3) == one(stored)  # beyond the limit: made again, alike


def test_a_busy_database_sends_the_page_to_a_worker_thread(state: EmulatorState, api: Api) -> None:
    """While another thread holds the database, a small page waits off the event loop: the loop
    keeps answering (here: a timer fires) and the page is answered once the database is free."""
    app = create_app(state)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with state.db.lock:
            held.set()
            release.wait(10)

    async def scenario() -> tuple[int, bool]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": "/api/machines",
            "raw_path": b"/api/machines",
            "query_string": b"$top=2",
            "root_path": "",
            "headers": [
                (b"host", b"api.securitycenter.microsoft.com"),
                (b"authorization", api.headers["Authorization"].encode()),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 443),
        }
        request = asyncio.ensure_future(app(scope, receive, send))
        await asyncio.sleep(0.2)
        loop_free = not request.done()  # the loop ran this coroutine while the page waited
        release.set()
        await asyncio.wait_for(request, 10)
        return sent[0]["status"], loop_free

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        status, loop_free = asyncio.run(scenario())
    finally:
        release.set()
        holder.join()
    assert (status, loop_free) == (200, True)


def test_pages_share_the_workers_while_one_is_busy() -> None:
    """A page is answered on the loop only while no request runs in a worker thread."""

    async def scenario() -> list[bool]:
        seen = [_workers_idle()]
        release = threading.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, release.wait, 10)
            await anyio.sleep(0.05)
            seen.append(_workers_idle())
            release.set()
        seen.append(_workers_idle())
        return seen

    assert anyio.run(scenario) == [True, False, True]
