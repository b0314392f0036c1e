"""Signer processes (issue 19): signatures made outside the server process, and what happens when
they cannot be made there."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mdekit.emulator import EmulatorServer
from mdekit.emulator.app import create_app
from mdekit.emulator.entra import signprocs
from mdekit.emulator.entra.signprocs import SignerLost, SignerProcesses
from mdekit.emulator.state import EmulatorState

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signer processes are POSIX-only")

MDE = "https://api.securitycenter.microsoft.com"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _verify(key: rsa.RSAPrivateKey, signature: bytes, data: bytes) -> None:
    key.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())  # raises if wrong


async def _ready(pool: SignerProcesses, count: int) -> None:
    """Until *count* signers said they are ready (they start with the first request)."""
    pool.sign(b"warm-up")  # starts them; answered by nobody yet: None
    for _ in range(500):
        if sum(1 for s in pool._signers if s.size) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the signer processes did not start")


async def test_signatures_match_their_requests(key: rsa.RSAPrivateKey) -> None:
    pool = SignerProcesses(_pem(key), 2)
    try:
        await _ready(pool, 2)
        inputs = [f"token {n}".encode() * 40 for n in range(40)]
        futures = [pool.sign(data) for data in inputs]
        assert all(f is not None for f in futures)
        signatures = await asyncio.wait_for(asyncio.gather(*futures), 30)  # type: ignore[arg-type]
        for data, signature in zip(inputs, signatures, strict=True):
            _verify(key, signature, data)  # each answer belongs to its own request
        assert {len(s.pending) for s in pool._signers} == {0}
        assert pool.signed == len(inputs)
    finally:
        pool.close()


async def test_more_than_the_pipes_hold_waits_its_turn(key: rsa.RSAPrivateKey) -> None:
    pool = SignerProcesses(_pem(key), 2)
    try:
        await _ready(pool, 2)
        inputs = [n.to_bytes(4, "little") * 300 for n in range(400)]  # 480 KB: pipes take ~64 KB
        futures = [pool.sign(data) for data in inputs]
        signatures = await asyncio.wait_for(asyncio.gather(*futures), 120)  # type: ignore[arg-type]
        for data, signature in zip(inputs, signatures, strict=True):
            _verify(key, signature, data)
        assert not any(s.waiting or s.out for s in pool._signers)  # all written, writers removed
    finally:
        pool.close()


async def test_a_signer_that_dies_hands_its_requests_back(key: rsa.RSAPrivateKey) -> None:
    pool = SignerProcesses(_pem(key), 2)
    try:
        await _ready(pool, 2)
        first, second = pool._signers
        first.proc.kill()
        first.proc.wait()
        lost = [pool.sign(b"x" * 100) for _ in range(6)]  # some go to the dead one's pipe
        outcomes = await asyncio.wait_for(asyncio.gather(*lost, return_exceptions=True), 30)  # type: ignore[arg-type]
        assert any(isinstance(o, SignerLost) for o in outcomes)
        assert all(isinstance(o, SignerLost | bytes) for o in outcomes)
        assert pool._signers == [second]  # forgotten, and reaped
        assert first.proc.returncode is not None
        future = pool.sign(b"still signing")
        assert future is not None
        _verify(key, await asyncio.wait_for(future, 30), b"still signing")
    finally:
        pool.close()


async def test_nothing_to_sign_with_gives_none(key: rsa.RSAPrivateKey) -> None:
    pool = SignerProcesses(_pem(key), 1)
    try:
        assert pool.sign(b"before they are ready") is None  # the caller signs in a thread
        await _ready(pool, 1)
        assert pool.sign(b"y" * (2 << 20)) is None  # nothing sane is that large: not queued here
        procs = [s.proc for s in pool._signers]
    finally:
        pool.close()
    assert all(p.returncode is not None for p in procs)  # closed stdin: they exit
    assert pool.sign(b"after close") is None


def test_process_count_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signprocs.ENV_COUNT, "0")
    assert signprocs.process_count() == 0
    monkeypatch.setenv(signprocs.ENV_COUNT, "3")
    assert signprocs.process_count() == 3
    monkeypatch.setenv(signprocs.ENV_COUNT, "many")
    assert signprocs.process_count() == 2


class _LosingProcesses:
    """Signer processes whose every request is lost (a signer exited after taking it)."""

    def __init__(self) -> None:
        self.asked = 0

    def sign(self, data: bytes) -> asyncio.Future[bytes]:
        self.asked += 1
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        future.set_exception(SignerLost())
        return future


async def test_a_lost_signature_is_made_in_a_thread_instead() -> None:
    state = EmulatorState.open(None)
    try:
        tenant = state.directory.create_tenant("Contoso")
        app = state.directory.create_application(tenant.id, "t", permissions=["Alert.Read.All"])
        state.directory.consent(tenant.id, app.app_id)
        secret = state.directory.add_secret(tenant.id, app.app_id)["value"]
        losing = _LosingProcesses()
        state.signer.processes = losing  # type: ignore[assignment]
        form = {"grant_type": "client_credentials", "client_id": app.app_id, "client_secret": secret,
                "scope": f"{MDE}/.default"}  # fmt: skip
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as client:
            answer = await client.post(f"/{tenant.id}/oauth2/v2.0/token", data=form)
        assert answer.status_code == 200 and losing.asked == 1
        claims = jwt.decode(answer.json()["access_token"], state.signer.public_key, algorithms=["RS256"],
                            audience=MDE)  # fmt: skip
        assert claims["roles"] == ["Alert.Read.All"]
    finally:
        state.close()


def _signer_children() -> set[int]:
    """Live signer processes whose parent is this process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"mdekit.emulator.entra.signprocs" in cmdline:
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_served_emulator_signs_in_its_signer_processes_and_ends_them(tmp_path: Path) -> None:
    before = _signer_children()
    with EmulatorServer(state_dir=tmp_path) as emu:
        state = emu.state
        tenant = state.directory.create_tenant("Contoso")
        app = state.directory.create_application(tenant.id, "t", permissions=["Alert.Read.All"])
        state.directory.consent(tenant.id, app.app_id)
        secret = state.directory.add_secret(tenant.id, app.app_id)["value"]
        form = {"grant_type": "client_credentials", "client_id": app.app_id, "client_secret": secret,
                "scope": f"{MDE}/.default"}  # fmt: skip
        with httpx.Client(base_url=emu.url, verify=ssl.create_default_context(cafile=emu.ca_cert)) as client:
            keys = client.get("/common/discovery/keys").json()
            tokens = [client.post(f"/{tenant.id}/oauth2/v2.0/token", data=form)]  # starts the signers
            processes: Any = state.signer.processes
            for _ in range(500):  # a fresh interpreter each: a moment to start
                if processes._signers and all(s.size for s in processes._signers):
                    break
                time.sleep(0.02)
            tokens += [client.post(f"/{tenant.id}/oauth2/v2.0/token", data=form) for _ in range(10)]
        assert {t.status_code for t in tokens} == {200}
        public = jwt.PyJWKSet.from_dict(keys).keys[0].key
        for answer in tokens:
            jwt.decode(answer.json()["access_token"], public, algorithms=["RS256"], audience=MDE)
        assert processes.signed == 10  # the first one signed in a thread, the rest by the signers
        started = _signer_children() - before
        assert started == {s.proc.pid for s in processes._signers}
    assert state.signer.processes is None
    assert not (_signer_children() - before)  # no process left behind
