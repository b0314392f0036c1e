"""``AsgiTransport`` releases its event-loop thread when closed (it used to leak one per transport)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from mdekit.client.transport import AsgiTransport
from mdekit.emulator.app import create_app
from mdekit.emulator.state import EmulatorState


@pytest.fixture
def state() -> Iterator[EmulatorState]:
    st = EmulatorState.open(None)
    yield st
    st.close()


def _threads_back_to(count: int) -> bool:
    """Whether the thread count returns to *count* (an idle worker thread may take a moment to exit)."""
    for _ in range(500):
        if threading.active_count() == count:
            return True
        threading.Event().wait(0.01)
    return False


def test_close_stops_the_thread_and_a_later_request_restarts_it(state: EmulatorState) -> None:
    transport = AsgiTransport(create_app(state))
    before = threading.active_count()
    with httpx.Client(transport=transport, base_url="https://127.0.0.1") as http:
        assert http.get("/_emulator/clock").status_code == 200
        assert threading.active_count() > before  # the event loop (and its worker threads)
    assert _threads_back_to(before)  # httpx closed the transport with its client
    with httpx.Client(transport=transport, base_url="https://127.0.0.1") as http:  # shared: starts again
        assert http.get("/_emulator/clock").status_code == 200
    transport.close()  # twice is fine
    assert _threads_back_to(before), [t.name for t in threading.enumerate()]


def test_close_waits_for_a_request_in_flight(state: EmulatorState) -> None:
    transport = AsgiTransport(create_app(state))
    before = threading.active_count()
    http = httpx.Client(transport=transport, base_url="https://127.0.0.1")
    assert http.post("/_emulator/faults", json={"path": "/common/*", "delaySeconds": 0.5}).status_code == 201
    answers: list[int] = []
    slow = threading.Thread(target=lambda: answers.append(http.get("/common/discovery/keys").status_code))
    slow.start()
    while not state.faults.plans()[0]["fired"]:  # the request is inside the app now
        threading.Event().wait(0.01)
    transport.close()
    slow.join(10)
    assert answers == [200]  # the request in flight finished...
    assert _threads_back_to(before)  # ...and then the loop thread stopped
    http.close()
