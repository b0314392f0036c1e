"""Hostile HTTP over a raw TLS socket, against every surface (issue 13): never a 500 or a silent drop.

Bytes go out as written (no client library tidies them): huge and many headers, invalid UTF-8 and
NUL in paths and queries, duplicate query parameters, odd content types and charsets, empty and
chunked bodies, very long paths, unknown methods. Each answer must arrive, be below 500, and --
when the application (not the HTTP parser) refuses -- use the surface's own envelope.

Found by this sweep: a 200 KB path segment on ``/api/machines/{id}`` answered 500 (SQLite refuses
LIKE patterns over 50,000 bytes); unknown ``/api`` and ``/v1.0`` paths and wrong methods answered
FastAPI's ``{"detail": "Not Found"}``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.emulator.envelopes import surface
from mdekit.emulator.server import EmulatorServer


@dataclass
class Target:
    server: EmulatorServer
    context: ssl.SSLContext
    tid: str
    machine: str
    tokens: dict[str, str]

    def send(self, data: bytes) -> bytes:
        """*data* over a fresh TLS connection; everything the server answers until it closes."""
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        with self.context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            # the server may answer and close before it has read a huge request to its end
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLEOFError):
                tls.sendall(data)
            out = b""
            while True:
                try:
                    chunk = tls.recv(65536)
                except (ConnectionResetError, ssl.SSLError):
                    break
                if not chunk:
                    break
                out += chunk
        return out


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """Its own emulator: the hostile traffic stays away from the shared one."""
    home: Path = tmp_path_factory.mktemp("hostile-http")
    with EmulatorServer(state_dir=home, data=home / "e.db") as server:
        context = ssl.create_default_context(cafile=str(server.ca_cert))
        with httpx.Client(base_url=server.url, verify=context) as c:
            tid = c.post("/_emulator/tenants", json={"displayName": "Hostile"}).json()["tenantId"]
            roles: list[object] = list(MDE.roles)
            roles += [{"resource": MTP.identifier_uris[0], "role": r} for r in MTP.roles]
            roles += [{"resource": GRAPH.identifier_uris[0], "role": r} for r in GRAPH.roles]
            body = {"displayName": "h", "permissions": roles}
            app = c.post(f"/_emulator/tenants/{tid}/applications", json=body)
            secret = app.json()["secret"]["value"]
            seeded = c.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 3, "alerts": 5})
            assert seeded.status_code == 200

            def token(resource: str) -> str:
                form = {"grant_type": "client_credentials", "client_id": app.json()["appId"],
                        "client_secret": secret, "scope": f"{resource}/.default"}  # fmt: skip
                return str(c.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["access_token"])

            tokens = {"mde": token(MDE.identifier_uris[0]), "graph": token(GRAPH.identifier_uris[0])}
            machine = c.get("/api/machines", headers={"Authorization": f"Bearer {tokens['mde']}"}).json()
        yield Target(server, context, tid, machine["value"][0]["id"], tokens)


def _request(t: Target, method: str, path: bytes, headers: list[bytes], body: bytes | None) -> bytes:
    lines = [method.encode() + b" " + path + b" HTTP/1.1"]
    if not any(h.lower().startswith(b"host:") for h in headers):
        lines.append(f"Host: 127.0.0.1:{t.server.port}".encode())
    kind = surface(path.decode("latin-1"))
    if kind in ("mde", "graph"):
        lines.append(b"Authorization: Bearer " + t.tokens[kind].encode())
    lines += headers
    framed = any(h.lower().startswith((b"content-length:", b"transfer-encoding:")) for h in headers)
    if body is not None and not framed:
        lines.append(f"Content-Length: {len(body)}".encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


# Paths with {tid}/{machine} filled in per run: a representative of every surface.
GETS = [
    "/api/alerts",
    "/api/machines/{machine}",
    "/api/machines/findbytag",
    "/{tid}/v2.0/.well-known/openid-configuration",
    "/common/discovery/keys",
    "/{tid}/adminconsent",
    "/_emulator/tenants",
    "/v1.0/security/runHuntingQuery",  # POST only: 405 in Graph's envelope
    "/v1.0/security/nothingHere",
]
POSTS = [
    "/api/indicators",
    "/api/alerts/batchUpdate",
    "/api/machines/{machine}/isolate",
    "/api/advancedqueries/run",
    "/v1.0/security/runHuntingQuery",
    "/{tid}/oauth2/v2.0/token",
    "/{tid}/oauth2/token",
    "/common/oauth2/consent-decision",
    "/_emulator/tenants",
    "/_emulator/clock",
]
JSON = b"Content-Type: application/json"
CHUNKED = b"Transfer-Encoding: chunked"
FORM = b"Content-Type: application/x-www-form-urlencoded"
DUPLICATES = b"?$top=1&$top=2&$filter=x&$filter=id%20eq%20'a'&$SKIP=1&$skip=2&tag=a&tag=b"
# GET: (method, path suffix, headers, body)
GET_CASES: dict[str, tuple[str, bytes, list[bytes], bytes | None]] = {
    "invalid utf-8 (escaped) in path": ("GET", b"/%ff%fe", [], None),
    "invalid utf-8 (raw) in path": ("GET", b"/\xff\xfe", [], None),
    "NUL in path": ("GET", b"%00x", [], None),
    "invalid utf-8 and NUL in query": ("GET", b"?$filter=%ff%fe&$top=%00&tag=%ff&x=\xff", [], None),
    "duplicate query parameters": ("GET", DUPLICATES, [], None),
    "200 KB path segment": ("GET", b"/" + b"a" * 200_000, [], None),
    "50,000 path segments": ("GET", b"/a" * 50_000, [], None),
    "60 KB prefix query": ("GET", b"?tag=" + b"t" * 60_000 + b"&useStartsWith=true", [], None),
    "900 KB header": ("GET", b"", [b"X-Big: " + b"a" * 900_000], None),
    "2 MB header": ("GET", b"", [b"X-Big: " + b"a" * 2_000_000], None),
    "20,000 headers": ("GET", b"", [f"X-{i}: {i}".encode() for i in range(20_000)], None),
    "invalid utf-8 Host": ("GET", b"", [b"Host: \xff\xfe:99999"], None),
    "100 KB Host": ("GET", b"", [b"Host: " + b"h" * 100_000], None),
    "deep JSON body on a GET": ("GET", b"", [JSON], b"[" * 100_000),
    "unknown method": ("FOO", b"", [], None),
    "garbage bearer token": ("GET", b"", [b"Authorization: Bearer \xff\xfe." + b"a" * 5000 + b".b"], None),
}
# POST: (headers, body)
POST_CASES: dict[str, tuple[list[bytes], bytes]] = {
    "empty body": ([JSON], b""),
    "no content type": ([], b'{"a": 1}'),
    "text/plain": ([b"Content-Type: text/plain"], b"hello"),
    "multipart": (
        [b"Content-Type: multipart/form-data; boundary=x"],
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
    ),
    "latin-1 JSON": ([JSON + b"; charset=latin-1"], '{"Comment":"\u00e9"}'.encode("latin-1")),
    "UTF-16 JSON": ([JSON], '{"Comment":"x"}'.encode("utf-16")),
    "invalid utf-8 in JSON": ([JSON], b'{"Comment":"\xff\xfe"}'),
    "lone surrogates and NUL": ([JSON], b'{"Comment":"\\ud800\\u0000","Query":"\\udfff"}'),
    "5,000-digit number": ([JSON], b'{"Comment": 1' + b"0" * 5000 + b"}"),
    "NaN and 1e999": ([JSON], b'{"Comment": NaN, "x": 1e999}'),
    "JSON string instead of object": ([JSON], b'"x"'),
    "bad form encoding": ([FORM], b"a=%ff&b=%zz&&=&" + b"c" * 999),
    "chunked, empty": ([CHUNKED, JSON], b"0\r\n\r\n"),
    "chunked": ([CHUNKED, JSON], b"2\r\n{}\r\n0\r\n\r\n"),
}

CASES = [(name, path) for name in GET_CASES for path in GETS]
CASES += [(name, path) for name in POST_CASES for path in POSTS]


def _case(name: str, path: str) -> tuple[str, bytes, list[bytes], bytes | None]:
    if name in GET_CASES:
        method, suffix, headers, body = GET_CASES[name]
        return method, path.encode() + suffix, headers, body
    headers, post_body = POST_CASES[name]
    return "POST", path.encode(), headers, post_body


def _envelope_ok(kind: str, body: bytes, content_type: str) -> bool:
    if kind == "entra" and "text/html" in content_type:
        return True  # consent pages and the login service's own 404 page
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if kind == "control":
        return set(data) == {"detail"}
    if kind == "entra":
        return {"error", "error_description", "error_codes"} <= set(data)
    keys = {"code", "message", "target"} if kind == "mde" else {"code", "message", "innerError"}
    return isinstance(data.get("error"), dict) and set(data["error"]) == keys


@pytest.mark.socket
@pytest.mark.parametrize(("name", "template"), CASES)
def test_hostile_request_gets_an_answer_below_500(target: Target, name: str, template: str) -> None:
    path = template.format(tid=target.tid, machine=target.machine)
    method, raw_path, headers, body = _case(name, path)
    answer = target.send(_request(target, method, raw_path, headers, body))
    head, _, payload = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 "), f"no answer at all: {answer[:200]!r}"
    status = int(status_line.split(b" ")[1])
    assert status < 500, answer[:600]
    protocol_refusal = payload.startswith(b"Invalid HTTP request") or status == 431
    if status >= 400 and not protocol_refusal:
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
        content_type = fields.get(b"content-type", b"").decode()
        assert _envelope_ok(surface(path), payload, content_type), answer[:600]


def test_the_server_answers_after_the_sweep(target: Target) -> None:
    with httpx.Client(base_url=target.server.url, verify=target.context) as c:
        assert c.get("/common/discovery/keys").status_code == 200
