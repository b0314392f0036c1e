"""RSA signatures in separate signer processes, fed over pipes read by the event loop (issue 19).

A served emulator signs tokens here instead of in threads: the event loop and the RSA work never
share a GIL, so the loop keeps parsing, checking and answering at full speed while both cores sign.
The loop writes ``length + signing input`` frames to a signer's stdin (non-blocking; what the pipe
does not take yet waits in a buffer) and reads the fixed-size signatures back with
``loop.add_reader``; each signer answers in order, so a queue of futures per signer matches
answers to requests.

Nothing here is required: :meth:`SignerProcesses.sign` returns ``None`` when it cannot take a
request (not started yet, another loop, no signer left) and the caller signs in a thread
instead; a signer that dies fails its pending requests with :class:`SignerLost`, which the caller
also answers by signing in a thread. Signers exit when their stdin closes, so a parent that is
killed leaves no process behind. They run as ``python -m mdekit.emulator.entra.signprocs`` (a
fresh interpreter, never a fork), and receive the key over the pipe, never on the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SignerLost", "SignerProcesses", "process_count"]

#: Environment variable: how many signer processes a served emulator starts (``0``: sign in threads).
ENV_COUNT = "MDEKIT_SIGNER_PROCESSES"
_LEN = 4  # little-endian length prefix of each request frame
# A token's signing input is ~1.1 KB; anything far larger is signed in a thread, not queued here.
_MAX_INPUT = 1 << 20


class SignerLost(Exception):
    """The signer process holding this request exited (or its pipe broke) before answering it."""


def process_count() -> int:
    """How many signer processes to start: ``$MDEKIT_SIGNER_PROCESSES``, else 2 (0 on non-POSIX).

    Two keep both cores of a small machine signing while the loop runs on either; more signers
    than that only add processes.
    """
    if os.name != "posix":  # loop.add_reader on pipes needs a selector loop
        return 0
    raw = os.environ.get(ENV_COUNT, "").strip()
    try:
        return max(0, min(16, int(raw))) if raw else 2
    except ValueError:
        return 2


@dataclass(eq=False)
class _Signer:
    """One signer process and what the loop knows about it."""

    proc: subprocess.Popen[bytes]
    wfd: int
    rfd: int
    size: int = 0  # signature length in bytes, known once the signer said it is ready
    buf: bytearray = field(default_factory=bytearray)
    pending: deque[asyncio.Future[bytes]] = field(default_factory=deque)  # in the order sent
    out: bytearray = field(default_factory=bytearray)  # frames not written to the pipe yet
    waiting: bool = False  # out waits for the pipe to take more (a writer is registered)


class SignerProcesses:
    """A few signer processes serving one event loop (the first that asks for a signature)."""

    def __init__(self, key_pem: str, count: int) -> None:
        self._key = key_pem.encode()
        self._count = count
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signers: list[_Signer] = []
        self._closed = False
        #: Signatures answered by the signer processes so far.
        self.signed = 0

    def sign(self, data: bytes) -> asyncio.Future[bytes] | None:
        """The RS256 signature of *data* as a future of the running loop, or ``None``: sign elsewhere.

        Requests of one loop turn leave together (``call_soon``): one write and one wake-up of a
        signer for several tokens when the server is busy.
        """
        loop = asyncio.get_running_loop()
        if self._loop is None and not self._closed:
            self._start(loop)
        if loop is not self._loop or len(data) > _MAX_INPUT:
            return None
        ready = [s for s in self._signers if s.size]
        if not ready:
            return None
        signer = min(ready, key=lambda s: len(s.pending))
        future = loop.create_future()
        if not signer.out:
            loop.call_soon(self._flush, signer)
        signer.out += len(data).to_bytes(_LEN, "little")
        signer.out += data
        signer.pending.append(future)  # answers come in the order the frames were written
        return future

    def _flush(self, signer: _Signer) -> None:
        """Write what *signer*'s pipe takes now; the rest when it can take more (``add_writer``)."""
        if signer not in self._signers:  # lost meanwhile: its requests failed already
            return
        try:
            del signer.out[: os.write(signer.wfd, signer.out)]
        except BlockingIOError:  # full: that signer is behind; this waits for it
            pass
        except OSError:
            self._lose(signer)
            return
        assert self._loop is not None
        if signer.out and not signer.waiting:
            self._loop.add_writer(signer.wfd, self._flush, signer)
        elif not signer.out and signer.waiting:
            self._loop.remove_writer(signer.wfd)
        signer.waiting = bool(signer.out)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for _ in range(self._count):
            with contextlib.suppress(OSError):
                self._signers.append(self._spawn(loop))

    def _spawn(self, loop: asyncio.AbstractEventLoop) -> _Signer:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mdekit.emulator.entra.signprocs"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        signer = _Signer(proc, proc.stdin.fileno(), proc.stdout.fileno())
        # The key first (a blocking write: an empty pipe takes it whole), then no more blocking.
        os.write(signer.wfd, len(self._key).to_bytes(_LEN, "little") + self._key)
        os.set_blocking(signer.wfd, False)
        os.set_blocking(signer.rfd, False)
        loop.add_reader(signer.rfd, self._readable, signer)
        return signer

    def _readable(self, signer: _Signer) -> None:
        try:
            chunk = os.read(signer.rfd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._lose(signer)
            return
        buf = signer.buf
        buf += chunk
        if not signer.size:  # the signer's first word: the signature size, i.e. "ready"
            if len(buf) < _LEN:
                return
            signer.size = int.from_bytes(buf[:_LEN], "little")
            del buf[:_LEN]
        size = signer.size
        while len(buf) >= size and signer.pending:
            future = signer.pending.popleft()
            if not future.cancelled():  # the client went away meanwhile
                future.set_result(bytes(buf[:size]))
            del buf[:size]
            self.signed += 1

    def _lose(self, signer: _Signer) -> None:
        """Forget a signer that exited (or whose pipe broke); its requests fail with SignerLost."""
        if signer not in self._signers:
            return
        self._signers.remove(signer)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(signer.rfd)
            if signer.waiting:
                self._loop.remove_writer(signer.wfd)
        signer.out.clear()
        while signer.pending:
            future = signer.pending.popleft()
            if not future.done():
                future.set_exception(SignerLost())
        _end(signer.proc)

    def close(self) -> None:
        """Stop every signer (their stdin closes, they exit); later requests are signed elsewhere."""
        self._closed = True
        for signer in list(self._signers):
            self._lose(signer)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Close *proc*'s pipes and reap it; it exits on its own once stdin is closed."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- the signer process itself ---------------------------------------------------------------


def _read_exact(fd: int, buf: bytearray, size: int) -> bool:
    while len(buf) < size:
        chunk = os.read(fd, 65536)
        if not chunk:
            return False
        buf += chunk
    return True


def _read_frame(fd: int, buf: bytearray) -> bytes | None:
    """The next ``length + payload`` frame's payload from *fd* (read ahead into *buf*), or
    ``None`` once the pipe closed."""
    if not _read_exact(fd, buf, _LEN):
        return None
    end = _LEN + int.from_bytes(buf[:_LEN], "little")
    if not _read_exact(fd, buf, end):
        return None
    payload = bytes(buf[_LEN:end])
    del buf[:end]
    return payload


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _serve(key: Any, size: int, buf: bytearray) -> None:
    """Sign frames from stdin until it closes, answering each signature as soon as it is made."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    _write_all(1, size.to_bytes(_LEN, "little"))
    while (data := _read_frame(0, buf)) is not None:
        _write_all(1, key.sign(data, pkcs1, sha256))


def main() -> None:
    """Signer process: read the PEM key frame, then sign request frames until stdin closes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; EOF ends us
    buf = bytearray()
    pem = _read_frame(0, buf)
    if pem is None:
        return
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    with contextlib.suppress(BrokenPipeError):
        _serve(key, key.key_size // 8, buf)


if __name__ == "__main__":
    main()
