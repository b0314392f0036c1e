"""The emulator's listening socket: accepted connections must not stall on Nagle's algorithm.

asyncio turns TCP_NODELAY on for every accepted connection only when the listening socket says it
is TCP (``proto == IPPROTO_TCP``); a ``proto=0`` socket made every keep-alive request wait ~40 ms
for the client's delayed ACK (found by ``benchmarks/bench_api.py``: 48 ms per request, 4 ms after).
"""

from __future__ import annotations

import socket

from mdekit.emulator.server import EmulatorServer


def test_listening_socket_lets_asyncio_set_nodelay(emu_server: EmulatorServer) -> None:
    sock = emu_server._sock  # the socket uvicorn accepts on
    assert sock.type == socket.SOCK_STREAM
    assert sock.proto == socket.IPPROTO_TCP


def test_accepted_connection_has_nodelay(emu_server: EmulatorServer) -> None:
    """Same check through a fresh server's accept path: the accepted socket inherits proto."""
    listener = EmulatorServer.__init__.__globals__["_bind"]("127.0.0.1", 0)
    try:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        with client, accepted:
            assert accepted.proto == socket.IPPROTO_TCP
    finally:
        listener.close()
