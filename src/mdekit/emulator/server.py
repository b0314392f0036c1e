"""Serve the emulator over real HTTPS sockets (uvicorn), in a thread or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.entra.signprocs import process_count
from mdekit.emulator.limits import MAX_REQUEST_HEAD_BYTES
from mdekit.emulator.state import EmulatorState
from mdekit.emulator.tls import TlsFiles, ensure_tls
from mdekit.errors import EmulatorError

__all__ = ["GRACE_SECONDS", "EmulatorServer", "ServerInfo"]

#: How long a stopping server lets requests in progress finish before it drops them. Idle
#: keep-alive connections are dropped at once: a TLS close would wait up to 30 s for the client.
GRACE_SECONDS = 3


@dataclass(frozen=True)
class ServerInfo:
    """What a client needs to reach a running emulator."""

    url: str
    ca_cert: Path
    pid: int

    def to_json(self) -> str:
        """``{"url", "ca_cert", "pid"}`` as written to ``--ready-file``."""
        return json.dumps({"url": self.url, "ca_cert": str(self.ca_cert), "pid": self.pid})


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it every keep-alive request stalls ~40 ms on Nagle + delayed ACK (issue 8 benchmarks).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmulatorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def _idle(connection: Any) -> bool:
    """A connection between requests, or one whose last answer is written and which is closing."""
    transport = getattr(connection, "transport", None)
    if transport is None:
        return True
    if transport.is_closing():
        return transport.get_write_buffer_size() == 0
    cycle = getattr(connection, "cycle", None)
    return cycle is None or bool(getattr(cycle, "response_complete", False))


def _abort(connection: Any) -> None:
    transport = getattr(connection, "transport", None)
    if transport is not None:
        transport.abort()  # no TLS goodbye: asyncio would wait 30 s for the client's close_notify


async def _drop_idle(connections: set[Any]) -> None:
    """Until cancelled: drop connections as soon as they have nothing left to answer."""
    while True:
        for connection in list(connections):
            if _idle(connection):
                _abort(connection)
        await asyncio.sleep(0.05)


#: Writes at least this long are passed on at once instead of being joined with others.
_JOIN_LIMIT = 64 * 1024


class _CoalescingTransport:
    """A transport whose writes made in one turn of the event loop leave as one write (issue 19).

    uvicorn writes a response's head and body separately: over TLS that is two records, two
    encryptions and two ``send`` calls (the client woken twice) for a 1.5 KB token answer. Here
    the first write of a turn is held until the loop's next turn (``call_soon``) and everything
    written meanwhile goes out with it. Every other method is the real transport's.
    """

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        """Queue *data*; it leaves with every other write of this turn, in order."""
        if len(data) >= _JOIN_LIMIT:  # a big body is not worth a copy: what is held goes first
            self._flush()
            self._transport.write(data)
        elif self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        """Bytes not sent yet, held here or in the real transport."""
        held = sum(len(d) for d in self._pending) if self._pending else 0
        return held + self._transport.get_write_buffer_size()

    def close(self) -> None:
        """Send what is held, then close."""
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop what is held and the connection."""
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


@cache
def _protocol_class() -> type:
    """uvicorn's HTTP protocol (httptools when installed, else h11) over a coalescing transport."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # no httptools: what uvicorn's "auto" picks then
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]

    class CoalescingProtocol(Base):
        """Writes each turn's output in one piece (see :class:`_CoalescingTransport`)."""

        def connection_made(self, transport: Any) -> None:
            coalescing: Any = _CoalescingTransport(transport, asyncio.get_running_loop())
            super().connection_made(coalescing)

    return CoalescingProtocol


@cache
def _server_class() -> type:
    """``uvicorn.Server`` that stops promptly (imported lazily: uvicorn is heavy)."""
    import uvicorn

    class PromptServer(uvicorn.Server):
        """Stops in at most :data:`GRACE_SECONDS` whoever is connected; a SIGTERM ends it cleanly."""

        signals: list[int]

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            reaper = asyncio.create_task(_drop_idle(self.server_state.connections))
            try:
                await super().shutdown(sockets=sockets)  # bounded by timeout_graceful_shutdown
            finally:
                reaper.cancel()
                for connection in list(self.server_state.connections):
                    _abort(connection)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal once stopped, which kills the process before the state
            # is closed; the caller decides instead (serve_forever).
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return PromptServer


class EmulatorServer:
    """The emulator on a real HTTPS socket.

    Use as a context manager (a background thread, for tests and ``mde demo``) or call
    :meth:`serve_forever` (the ``mde emulator serve`` command)::

        with EmulatorServer() as emu:
            httpx.get(f"{emu.url}/common/discovery/keys", verify=str(emu.ca_cert))
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data: str | Path | None = None,
        state: EmulatorState | None = None,
        state_dir: Path | None = None,
        extra_hosts: tuple[str, ...] = (),
        clock: VirtualClock | None = None,
    ) -> None:
        self.host = host
        self.state = state or EmulatorState.open(data, clock=clock)
        self.tls: TlsFiles = ensure_tls(state_dir, (host, *extra_hosts))
        self._sock = _bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``https://<host>:<port>`` (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_cert(self) -> Path:
        """The CA certificate clients must trust."""
        return self.tls.ca_cert

    @property
    def info(self) -> ServerInfo:
        """URL, CA path and process id."""
        return ServerInfo(self.url, self.ca_cert, os.getpid())

    def _make_server(self) -> Any:
        import uvicorn

        from mdekit.emulator.app import create_app

        # Tokens are signed in signer processes, started with the first token request: the event
        # loop then never waits for the GIL behind an RSA signature (issue 19).
        self.state.signer.start_processes(process_count())
        config = uvicorn.Config(
            create_app(self.state),
            ssl_certfile=str(self.tls.server_cert),
            ssl_keyfile=str(self.tls.server_key),
            http=_protocol_class(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=GRACE_SECONDS,
            # a $filter listing a thousand ids is a 60 KB URL; h11's default refuses 16 KB
            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        )
        return _server_class()(config)

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns once the socket accepts connections."""
        self._server = self._make_server()
        self._server.config.install_signal_handlers = False  # not the main thread
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True, name="mdekit-emulator"
        )
        self._thread.start()
        for _ in range(1000):
            if self._server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self._server.started:
            raise EmulatorError("the emulator did not start")
        return self

    def serve_forever(self, ready_file: Path | None = None, on_ready: Any = None) -> None:
        """Serve in the foreground until interrupted; write *ready_file* once accepting connections."""
        self._server = self._make_server()
        info = self.info

        async def _startup_hook() -> None:
            if ready_file is not None:
                tmp = Path(str(ready_file) + ".tmp")
                tmp.write_text(info.to_json())
                tmp.replace(ready_file)
            if on_ready is not None:
                on_ready(info)

        original_startup = self._server.startup

        async def startup(sockets: Any = None) -> None:
            await original_startup(sockets=sockets)
            await _startup_hook()

        self._server.startup = startup
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self.state.signer.stop_processes()
            self.state.save_clock()
            self.state.close()
        if signal.SIGINT in getattr(self._server, "_captured_signals", ()):
            raise KeyboardInterrupt  # Ctrl-C: as before; a SIGTERM is a normal stop

    def stop(self) -> None:
        """Stop serving and close the state."""
        if self._server is not None:
            # Idle keep-alive clients (e.g. a credential never closed) do not hold up a stop, and
            # requests in progress get GRACE_SECONDS; every acknowledged write is already committed.
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=GRACE_SECONDS + 10)
        self._sock.close()
        self.state.signer.stop_processes()
        self.state.save_clock()
        self.state.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
