"""The server's coalescing transport (issue 19): one write per loop turn, in order, nothing lost."""

from __future__ import annotations

import asyncio
from typing import Any

from mdekit.emulator.server import _CoalescingTransport


class _Recorder:
    """A transport that records what it is asked to do."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


async def test_writes_of_one_turn_leave_as_one() -> None:
    real = _Recorder()
    transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert real.writes == [] and transport.get_write_buffer_size() == 40
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.write(b"next")
    await asyncio.sleep(0)
    assert real.writes[1:] == [b"next"]
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the real one's
    big = b"b" * (1024 * 1024)
    transport.write(b"head")
    transport.write(big)  # not copied into a join: the head goes first, then the body as it is
    assert real.writes[2:] == [b"head", big]
    await asyncio.sleep(0)
    assert len(real.writes) == 4


async def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    loop = asyncio.get_running_loop()
    real = _Recorder()
    transport = _CoalescingTransport(real, loop)  # type: ignore[arg-type]
    transport.write(b"last answer")
    transport.close()
    assert real.writes == [b"last answer"] and real.closed
    other = _Recorder()
    dropped = _CoalescingTransport(other, loop)  # type: ignore[arg-type]
    dropped.write(b"never sent")
    dropped.abort()
    await asyncio.sleep(0)
    assert other.writes == [] and other.aborted
