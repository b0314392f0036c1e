"""Token service throughput and latency: the mdekit emulator vs oauth2-mock-server (npm), side by side.

Run: .venv/bin/python benchmarks/bench_token_service.py [SECONDS] [CONCURRENCY] [--rounds=N] [--python]
     [--no-fast | --no-uvloop] [--flow=secret|certificate] [--before=DIR]

Both servers run in their own process on 127.0.0.1, both over HTTPS with the SAME certificate (the
emulator's server certificate, handed to oauth2-mock-server with -c/-k), and both get the same load:
``wrk`` (Debian package; C, 2 threads) with CONCURRENCY connections for SECONDS, or -- without wrk,
or with ``--python`` -- the asyncio+httpx closed-loop generator of ``_load.py``.
Two client-credentials flows: a client secret, and a certificate (``private_key_jwt``) assertion.
oauth2-mock-server signs a token for any request; the emulator also checks the tenant, the app,
the hashed secret or the assertion's signature and certificate, consent and roles.

The machine is shared and noisy, so each flow runs N rounds (default 3), alternating which server
goes first (ABBA), and the summary gives medians and the median of the per-round ratios. With wrk,
each server's own CPU time per token (``/proc/<pid>/stat`` of the server and its live child
processes -- the emulator's signer processes -- measured run only) is printed too: it moves far
less with the machine's load than throughput does.

The unit for that CPU time is one RSA-2048 signature (PKCS#1 v1.5 + SHA-256 with ``cryptography``,
what every RS256 token costs at least), measured in this process right before and after every
run (CPU time, 150 signatures each) so it sees the same machine state; the summary prints the
median and the emulator's CPU per token as a multiple of it. Issue 19's goals: throughput at
least 1.5x oauth2-mock-server's at 16 connections, CPU per token at most 2x the signature.

The emulator's server uses uvloop + httptools when they are installed (part of
``pip install 'mdekit[emulator]'``: uvicorn picks them up by itself); ``--no-fast`` hides them from
the served emulator to measure the pure-Python stack (asyncio + h11) on the same installation;
``--no-uvloop`` hides uvloop only (asyncio + httptools: what the extra installs on Windows).

oauth2-mock-server is installed on first run with ``npm install --prefix benchmarks/.node``
(git-ignored); without node/npm that half is skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from _load import (
    MDE_URI,
    Result,
    Served,
    free_port,
    machine_line,
    new_app,
    run_load,
    serve_emulator,
    ssl_context,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

NODE_DIR = Path(__file__).parent / ".node"
MOCK = "oauth2-mock-server"
MOCK_BIN = NODE_DIR / "node_modules" / ".bin" / "oauth2-mock-server"


def _certificate() -> tuple[Any, str, str]:
    """A client certificate: (key, PEM, base64url SHA-1 thumbprint)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdekit-bench")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    import base64

    thumb = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()
    return key, cert.public_bytes(serialization.Encoding.PEM).decode(), thumb


def _assertion(key: Any, thumb: str, client_id: str, audience: str) -> str:
    """One client assertion, reused for the run (msal reuses one for minutes; the emulator allows it)."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 1800,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"x5t": thumb})


def _start_mock(cert: str, key: str) -> tuple[subprocess.Popen[bytes], str] | None:
    if not MOCK_BIN.exists():
        try:
            subprocess.run(
                ["npm", "install", "--prefix", str(NODE_DIR), "oauth2-mock-server@9"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, subprocess.CalledProcessError):
            return None
    port = free_port()
    proc = subprocess.Popen(
        [str(MOCK_BIN), "-a", "127.0.0.1", "-p", str(port), "-c", cert, "-k", key],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"https://127.0.0.1:{port}"


def _wait(url: str, ca: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, verify=ssl_context(ca), timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer")


def _wrk(
    url: str, form: dict[str, str], concurrency: int, seconds: float, pid: int | None = None
) -> tuple[Result, float | None]:
    """The same POST with wrk (a C load generator: the Python one saturates before either server).

    Also returns process *pid*'s CPU microseconds per answered request during the measured run
    (not the warm-up), when known.
    """
    from urllib.parse import urlencode

    script = Path(tempfile.mkdtemp()) / "post.lua"
    body = urlencode(form).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    )
    base = ["wrk", "-t", str(min(2, concurrency)), "-c", str(concurrency), "-s", str(script)]
    subprocess.run([*base, "-d", "1s", url], capture_output=True, check=True)  # warm-up
    cpu0 = _cpu_seconds(pid)
    out = subprocess.run(
        [*base, "-d", f"{seconds:.0f}s", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    cpu1 = _cpu_seconds(pid)
    result = _parse_wrk(out, seconds)
    cpu_us = None
    if cpu0 is not None and cpu1 is not None and result.wrk_rate:
        cpu_us = (cpu1 - cpu0) / (result.wrk_rate * seconds) * 1e6
    return result, cpu_us


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds so far of process *pid* and its live children (Linux), or ``None``.

    The children count: a served emulator signs in signer processes (issue 19).
    """
    if pid is None:
        return None
    own = _stat(pid)
    if own is None:
        return None
    total = own[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(pid):
            child = _stat(int(entry.name))
            if child is not None and child[0] == pid:
                total += child[1]
    return total / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system clock ticks) of process *pid*, or ``None`` if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _parse_wrk(out: str, seconds: float) -> Result:
    def ms(text: str) -> float:
        for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float(text)

    result = Result(seconds=seconds)
    pcts: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            pcts[parts[0]] = ms(parts[1])
        elif line.startswith("Requests/sec:"):
            result.wrk_rate = float(parts[1])
        elif "Non-2xx" in line:
            result.failures = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            result.failures += sum(int(x.strip(",")) for x in parts[3::2])
    result.wrk_pcts = pcts
    return result


class SignatureCost:
    """CPU µs of one RSA-2048 RS256 signature in this process, sampled around every measured run."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import padding

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._pad, self._hash = padding.PKCS1v15(), hashes.SHA256()
        self._message = b"e" * 1100  # a token's signing input is ~1.1 KB
        self.samples: list[float] = []

    def sample(self, count: int = 150) -> None:
        start = time.process_time()
        for _ in range(count):
            self._key.sign(self._message, self._pad, self._hash)
        self.samples.append((time.process_time() - start) / count * 1e6)

    def median(self) -> float:
        return statistics.median(self.samples)

    def line(self) -> str:
        return (
            f"RSA-2048 signature (PKCS#1 v1.5, SHA-256), this process, sampled before and after "
            f"every run: median {self.median():.0f} µs CPU (range {min(self.samples):.0f}-"
            f"{max(self.samples):.0f}, {len(self.samples)} samples)"
        )


def _secret_sender(path: str, form: dict[str, str]) -> Any:
    async def send(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.post(path, data=form)

    return send


@dataclass
class Target:
    """One server under test: label, base URL, token path, process id (for its CPU time), and its
    own forms when it needs others than the first emulator's (another emulator: its own app)."""

    label: str
    url: str
    path: str
    pid: int | None
    forms: dict[str, dict[str, str]] | None = None


@dataclass
class Run:
    """One measured run: wrk's (or the Python generator's) result and CPU µs per token."""

    result: Result
    cpu_us: float | None


def _options() -> tuple[float, int, int, bool]:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rounds = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--rounds=")), 3)
    use_wrk = shutil.which("wrk") is not None and "--python" not in sys.argv
    return float(args[0]) if args else 5.0, int(args[1]) if len(args) > 1 else 16, max(1, rounds), use_wrk


def _measure(
    target: Target, form: dict[str, str], ca: str, concurrency: int, seconds: float, wrk: bool
) -> Run:
    if wrk:
        return Run(*_wrk(target.url + target.path, form, concurrency, seconds, target.pid))
    send = _secret_sender(target.path, form)
    return Run(run_load(target.url, ca, send, concurrency=concurrency, seconds=seconds), None)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _summary(label: str, runs: list[Run]) -> str:
    rate = statistics.median(r.result.rate for r in runs)
    p50 = statistics.median(r.result.pct(50) for r in runs)
    p99 = statistics.median(r.result.pct(99) for r in runs)
    cpu = _median([r.cpu_us for r in runs])
    failures = sum(r.result.failures for r in runs)
    cpu_text = f"  CPU {cpu:5.0f} µs/token" if cpu is not None else ""
    return (
        f"{label:<34} {rate:9.1f}/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms{cpu_text}"
        f"  failures {failures}  (median of {len(runs)})"
    )


def _ratios(flow: str, ours: list[Run], theirs: list[Run], label: str) -> str:
    per_round = [a.result.rate / b.result.rate for a, b in zip(ours, theirs, strict=True)]
    rate = statistics.median(r.result.rate for r in ours) / statistics.median(r.result.rate for r in theirs)
    p99 = statistics.median(r.result.pct(99) for r in ours) / statistics.median(
        r.result.pct(99) for r in theirs
    )
    rounds = ", ".join(f"{x:.2f}" for x in per_round)
    text = (
        f"ratio ours/{label} ({flow}): throughput {rate:.2f}x (per round: {rounds}; "
        f"median {statistics.median(per_round):.2f}x), p99 {p99:.2f}x"
    )
    cpu_ours, cpu_theirs = _median([r.cpu_us for r in ours]), _median([r.cpu_us for r in theirs])
    if cpu_ours and cpu_theirs:
        text += f", CPU per token {cpu_ours / cpu_theirs:.2f}x"
    return text


def _forms(emu: Any, app: dict[str, Any], key: Any, thumb: str) -> tuple[str, dict[str, dict[str, str]]]:
    tid, client_id = app["tid"], app["appId"]
    path = f"/{tid}/oauth2/v2.0/token"
    base = {"grant_type": "client_credentials", "client_id": client_id, "scope": f"{MDE_URI}/.default"}
    cert_form = {
        **base,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(key, thumb, client_id, emu.url + path),
    }
    return path, {"secret": {**base, "client_secret": app["secret"]}, "certificate": cert_form}


def _compare(
    targets: list[Target], forms: dict[str, dict[str, str]], ca: str, opts: tuple[float, int, int, bool]
) -> None:
    seconds, concurrency, rounds, wrk = opts
    signature = SignatureCost()
    for flow, form in forms.items():
        runs: dict[str, list[Run]] = {t.label: [] for t in targets}
        for n in range(rounds):
            for target in targets if n % 2 == 0 else targets[::-1]:  # ABBA: drift hits both
                signature.sample()
                own = target.forms[flow] if target.forms else form
                run = _measure(target, own, ca, concurrency, seconds, wrk)
                signature.sample()
                runs[target.label].append(run)
                print(f"  round {n + 1}: " + run.result.line(f"{target.label}, {flow}"), flush=True)
        for target in targets:
            print(_summary(f"{target.label}, {flow}", runs[target.label]))
        for other in targets[1:]:
            print(_ratios(flow, runs[targets[0].label], runs[other.label], other.label))
        print(_goals(flow, runs[targets[0].label], runs.get(MOCK), signature))
    print(signature.line())


def _goals(flow: str, ours: list[Run], theirs: list[Run] | None, signature: SignatureCost) -> str:
    """Issue 19's two goals for *flow*: throughput >= 1.5x theirs, CPU per token <= 2x a signature."""
    parts = []
    if theirs is not None:
        rate = statistics.median(r.result.rate for r in ours) / statistics.median(
            r.result.rate for r in theirs
        )
        parts.append(
            f"throughput {rate:.2f}x oauth2-mock-server ({'met' if rate >= 1.5 else 'NOT met'}, >= 1.5x)"
        )
    cpu = _median([r.cpu_us for r in ours])
    if cpu is not None:
        ratio = cpu / signature.median()
        parts.append(
            f"CPU per token {cpu:.0f} µs = {ratio:.2f}x the RSA-2048 signature's {signature.median():.0f} µs "
            f"({'met' if ratio <= 2 else 'NOT met'}, <= 2x)"
        )
    return f"goals ({flow}): " + "; ".join(parts)


def _server_stack() -> str:
    """Which loop/HTTP parser the served emulator will use (``--no-fast`` hides the fast ones)."""
    import importlib.util

    hidden = (
        ("uvloop", "httptools")
        if "--no-fast" in sys.argv
        else ("uvloop",)
        if "--no-uvloop" in sys.argv
        else ()
    )
    if hidden:
        blocker = Path(tempfile.mkdtemp(prefix="mdekit-no-fast-"))
        for name in hidden:
            (blocker / f"{name}.py").write_text('raise ImportError("hidden by the benchmark")\n')
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))
        if len(hidden) == 2:
            return "asyncio + h11 (--no-fast)"
        return "asyncio + httptools (--no-uvloop: the stack on Windows, where uvloop has no wheels)"
    fast = all(importlib.util.find_spec(m) is not None for m in ("uvloop", "httptools"))
    return "uvloop + httptools" if fast else "asyncio + h11 (uvloop/httptools not installed)"


def _serve_before(src: str, home: Path) -> Served:
    """An emulator served from another source tree (``--before=DIR``, e.g. ``git archive`` of an
    earlier commit's ``src``), in its own state directory."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(src).resolve()), saved]))
    try:
        state = Path(tempfile.mkdtemp(prefix="mdekit-bench-before-"))
        return serve_emulator(state)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def main() -> None:
    """Measure and print both servers, both flows, and our/their ratio."""
    opts = _options()
    seconds, concurrency, rounds, use_wrk = opts
    print(machine_line() + ", load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(
        f"load: {concurrency} connections, {seconds:.0f} s per run after a 1 s warm-up, HTTPS, "
        f"127.0.0.1, {rounds} alternating rounds"
    )
    print(f"load generator: {'wrk (C, 2 threads)' if use_wrk else 'Python asyncio + httpx'}")
    print(f"emulator server: uvicorn with {_server_stack()}")
    before_src = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--before=")), None)
    if before_src is not None:
        print(f"also served: the emulator from {before_src} (same stack), in the same alternating rounds")
    key, cert_pem, thumb = _certificate()
    emu = serve_emulator()
    mock = None
    before: Served | None = None
    try:
        with emu.control() as control:
            app = new_app(control, ["Alert.Read.All"], certificate_pem=cert_pem)
        path, forms = _forms(emu, app, key, thumb)
        for form in forms.values():
            check = httpx.post(emu.url + path, data=form, verify=ssl_context(emu.ca))
            assert check.status_code == 200, check.text
        targets = [Target("mdekit emulator", emu.url, path, emu.proc.pid)]
        if before_src is not None:
            before = _serve_before(before_src, emu.home)
            with before.control() as control:
                before_app = new_app(control, ["Alert.Read.All"], certificate_pem=cert_pem)
            before_path, before_forms = _forms(before, before_app, key, thumb)
            targets.append(Target("emulator before", before.url, before_path, before.proc.pid, before_forms))
        mock = _start_mock(str(emu.home / "server.pem"), str(emu.home / "server-key.pem"))
        if mock is not None:
            _wait(mock[1] + "/.well-known/openid-configuration", emu.ca)
            targets.append(Target(MOCK, mock[1], "/token", mock[0].pid))
        else:
            print("oauth2-mock-server: not available (needs node + npm); ratio not measured")
        only = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--flow=")), None)
        _compare(targets, {k: v for k, v in forms.items() if only in (None, k)}, emu.ca, opts)
        print("load average at the end (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    finally:
        emu.stop()
        if before is not None:
            before.stop()
        if mock is not None:
            mock[0].terminate()
            mock[0].wait(timeout=10)


if __name__ == "__main__":
    main()
