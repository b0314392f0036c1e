"""Token service throughput and latency: the mdekit emulator vs oauth2-mock-server (npm), side by side.

Run: .venv/bin/python benchmarks/bench_token_service.py [SECONDS] [CONCURRENCY] [--python]

Both servers run in their own process on 127.0.0.1, both over HTTPS with the SAME certificate (the
emulator's server certificate, handed to oauth2-mock-server with -c/-k), and both get the same load:
``wrk`` (Debian package; C, 2 threads) with CONCURRENCY connections for SECONDS, or -- without wrk,
or with ``--python`` -- the asyncio+httpx closed-loop generator of ``_load.py``.
Two client-credentials flows: a client secret, and a certificate (``private_key_jwt``) assertion.
oauth2-mock-server signs a token for any request; the emulator also checks the tenant, the app,
the hashed secret or the assertion's signature and certificate, consent and roles.

oauth2-mock-server is installed on first run with ``npm install --prefix benchmarks/.node``
(git-ignored); without node/npm that half is skipped.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from _load import MDE_URI, Result, free_port, machine_line, new_app, run_load, serve_emulator, ssl_context
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

NODE_DIR = Path(__file__).parent / ".node"
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


def _wrk(url: str, form: dict[str, str], concurrency: int, seconds: float) -> Result:
    """The same POST with wrk (a C load generator: the Python one saturates before either server)."""
    from urllib.parse import urlencode

    script = Path(tempfile.mkdtemp()) / "post.lua"
    body = urlencode(form).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    )
    threads = str(min(2, concurrency))
    subprocess.run(
        ["wrk", "-t", threads, "-c", str(concurrency), "-d", "1s", "-s", str(script), url],
        capture_output=True,
        check=True,
    )  # warm-up
    out = subprocess.run(
        [
            "wrk",
            "-t",
            threads,
            "-c",
            str(concurrency),
            "-d",
            f"{seconds:.0f}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _parse_wrk(out, seconds)


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


def _secret_sender(path: str, form: dict[str, str]) -> Any:
    async def send(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.post(path, data=form)

    return send


def main() -> None:
    """Measure and print both servers, both flows, and our/their ratio."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(args[0]) if args else 5.0
    concurrency = int(args[1]) if len(args) > 1 else 16
    print(machine_line())
    print(
        f"load: {concurrency} connections, {seconds:.0f} s per run after a 1 s warm-up, HTTPS, 127.0.0.1"
    )
    key, cert_pem, thumb = _certificate()
    emu = serve_emulator()
    mock = None
    try:
        with emu.control() as control:
            app = new_app(control, ["Alert.Read.All"], certificate_pem=cert_pem)
        tid, client_id = app["tid"], app["appId"]
        path = f"/{tid}/oauth2/v2.0/token"
        base = {"grant_type": "client_credentials", "client_id": client_id, "scope": f"{MDE_URI}/.default"}
        secret_form = {**base, "client_secret": app["secret"]}
        cert_form = {
            **base,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": _assertion(key, thumb, client_id, emu.url + path),
        }
        tls = emu.home
        mock = _start_mock(str(tls / "server.pem"), str(tls / "server-key.pem"))
        results: dict[tuple[str, str], Result] = {}
        use_wrk = shutil.which("wrk") is not None and "--python" not in sys.argv
        print(f"load generator: {'wrk (C, 2 threads)' if use_wrk else 'Python asyncio + httpx'}")

        def measure(url: str, token_path: str, form: dict[str, str]) -> Result:
            if use_wrk:
                return _wrk(url + token_path, form, concurrency, seconds)
            return run_load(
                url, emu.ca, _secret_sender(token_path, form), concurrency=concurrency, seconds=seconds
            )

        for flow, form in (("secret", secret_form), ("certificate", cert_form)):
            check = httpx.post(emu.url + path, data=form, verify=ssl_context(emu.ca))
            assert check.status_code == 200, check.text
            results[("mdekit", flow)] = measure(emu.url, path, form)
            print(results[("mdekit", flow)].line(f"mdekit emulator, {flow}"))
            if mock is not None:
                _wait(mock[1] + "/.well-known/openid-configuration", emu.ca)
                results[("mock", flow)] = measure(mock[1], "/token", form)
                print(results[("mock", flow)].line(f"oauth2-mock-server, {flow}"))
        for flow in ("secret", "certificate"):
            if ("mock", flow) in results:
                ours, theirs = results[("mdekit", flow)], results[("mock", flow)]
                print(
                    f"ratio ours/theirs ({flow}): throughput {ours.rate / theirs.rate:.2f}x, "
                    f"p50 {ours.pct(50) / theirs.pct(50):.2f}x, p99 {ours.pct(99) / theirs.pct(99):.2f}x"
                )
        if mock is None:
            print("oauth2-mock-server: not available (needs node + npm); ratio not measured")
    finally:
        emu.stop()
        if mock is not None:
            mock[0].terminate()
            mock[0].wait(timeout=10)


if __name__ == "__main__":
    main()
