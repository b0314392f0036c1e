"""Directory changes take effect on the very next token request, although reads are cached.

Each test first makes a request that fills the cache for the app (token issued, or refused), then
changes the directory one way or another, then checks the next answer over real HTTPS.
"""

from __future__ import annotations

import sqlite3
import ssl
import threading
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from mdekit.emulator.server import EmulatorServer

MDE = "https://api.securitycenter.microsoft.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _roles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    return list(claims.get("roles", []))


def _code(response: httpx.Response) -> int:
    assert response.status_code in (400, 401), response.text
    return int(response.json()["error_codes"][0])


def test_revoke_and_consent_apply_at_once(make_app: Any, control: httpx.Client) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    consent = f"/_emulator/tenants/{app['tenantId']}/consent"
    for _ in range(3):
        assert _roles(app.token_response()) == ["Alert.Read.All"]
        assert control.delete(f"{consent}/{app['appId']}").status_code == 204
        assert _code(app.token_response()) == 700016
        control.post(consent, json={"appId": app["appId"]}).raise_for_status()


def test_permission_change_and_reconsent_apply_at_once(make_app: Any, control: httpx.Client) -> None:
    app = make_app(permissions=["Alert.Read.All", "Machine.Isolate"])
    assert _roles(app.token_response()) == ["Alert.Read.All", "Machine.Isolate"]
    base = f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}"
    control.post(f"{base}/permissions", json={"add": [], "remove": ["Machine.Isolate"]}).raise_for_status()
    assert _roles(app.token_response()) == ["Alert.Read.All", "Machine.Isolate"]  # grants wait for consent
    control.post(f"/_emulator/tenants/{app['tenantId']}/consent", json={"appId": app["appId"]})
    assert _roles(app.token_response()) == ["Alert.Read.All"]


def test_new_secret_works_at_once_and_wrong_ones_stay_refused(make_app: Any, control: httpx.Client) -> None:
    app = make_app()
    assert app.token_response().status_code == 200
    wrong = {"grant_type": "client_credentials", "client_id": app["appId"], "scope": f"{MDE}/.default"}
    path = f"/{app['tenantId']}/oauth2/v2.0/token"
    created = control.post(
        f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}/secrets", json={}
    )
    fresh = created.json()["value"]
    assert control.post(path, data={**wrong, "client_secret": fresh}).status_code == 200
    assert app.token_response().status_code == 200  # the old one still works too
    assert _code(control.post(path, data={**wrong, "client_secret": fresh + "x"})) == 7000215


def test_deleted_app_and_reset_apply_at_once(
    emu: EmulatorServer, make_app: Any, control: httpx.Client
) -> None:
    app = make_app()
    headers = app.headers()
    assert control.get("/api/alerts", headers=headers).status_code == 200
    control.delete(f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}").raise_for_status()
    assert _code(app.token_response()) == 700016
    # The API's own checks read the same cached directory: an earlier token stops working at once.
    assert control.get("/api/alerts", headers=headers).status_code in (401, 403)
    other = make_app()
    assert other.token_response().status_code == 200
    control.post("/_emulator/reset").raise_for_status()
    assert _code(other.token_response()) == 90002


def test_certificate_added_after_a_refusal_works_at_once(
    make_app: Any, control: httpx.Client, client_cert: Any, emu: EmulatorServer
) -> None:
    app = make_app(secret=False)
    key = serialization.load_pem_private_key(client_cert.key_pem.encode(), password=None)
    path = f"/{app['tenantId']}/oauth2/v2.0/token"
    now = int(time.time())
    claims = {"aud": emu.url + path, "iss": app["appId"], "sub": app["appId"], "jti": str(uuid.uuid4()),
              "nbf": now, "exp": now + 600}  # fmt: skip
    thumb = jwt.utils.base64url_encode(bytes.fromhex(client_cert.sha1_hex)).decode()
    form = {
        "grant_type": "client_credentials",
        "client_id": app["appId"],
        "scope": f"{MDE}/.default",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": jwt.encode(claims, key, algorithm="RS256", headers={"x5t": thumb}),  # type: ignore[arg-type]
    }
    assert _code(control.post(path, data=form)) == 700027  # no certificate yet: cached as none
    added = control.post(
        f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}/certificates",
        json={"certificatePem": client_cert.cert_pem},
    )
    assert added.status_code == 201, added.text
    assert _roles(control.post(path, data=form)) == ["Alert.Read.All"]


def test_writes_outside_the_directory_store_are_seen(emu: EmulatorServer, make_app: Any) -> None:
    """Raw SQL on the emulator's connection, and a commit by another connection to the same file."""
    app = make_app(permissions=["Alert.Read.All"])
    assert _roles(app.token_response()) == ["Alert.Read.All"]
    with emu.state.db.tx() as c:
        c.execute("DELETE FROM dir_grants WHERE app_id = ?", (app["appId"],))
    assert _roles(app.token_response()) == []
    other = sqlite3.connect(emu.state.db.path, timeout=10)
    try:
        with other:
            other.execute("DELETE FROM dir_service_principals WHERE app_id = ?", (app["appId"],))
    finally:
        other.close()
    assert _code(app.token_response()) == 700016


def test_concurrent_requests_never_leave_a_stale_answer(make_app: Any, control: httpx.Client) -> None:
    """Token requests keep filling the cache from another thread while consent flips."""
    app = make_app(permissions=["Alert.Read.All"])
    consent = f"/_emulator/tenants/{app['tenantId']}/consent"
    stop = threading.Event()

    def hammer() -> None:
        form = {"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": app["secret"],
                "scope": f"{MDE}/.default"}  # fmt: skip
        with httpx.Client(base_url=app["url"], verify=ssl.create_default_context(cafile=app["caCert"])) as c:
            while not stop.is_set():
                c.post(f"/{app['tenantId']}/oauth2/v2.0/token", data=form)

    workers = [threading.Thread(target=hammer) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for _ in range(8):
            control.delete(f"{consent}/{app['appId']}").raise_for_status()
            assert _code(app.token_response()) == 700016
            control.post(consent, json={"appId": app["appId"]}).raise_for_status()
            assert _roles(app.token_response()) == ["Alert.Read.All"]
    finally:
        stop.set()
        for w in workers:
            w.join()


def test_remembered_assertion_signature_still_checks_the_rest(
    make_app: Any, control: httpx.Client, client_cert: Any, emu: EmulatorServer
) -> None:
    """A verified assertion is remembered by its exact bytes only: tampering and reuse still fail."""
    app = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    other = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    key = serialization.load_pem_private_key(client_cert.key_pem.encode(), password=None)
    path = f"/{app['tenantId']}/oauth2/v2.0/token"
    now = int(time.time())
    claims = {"aud": emu.url + path, "iss": app["appId"], "sub": app["appId"], "jti": str(uuid.uuid4()),
              "nbf": now, "exp": now + 600}  # fmt: skip
    thumb = jwt.utils.base64url_encode(bytes.fromhex(client_cert.sha1_hex)).decode()
    assertion = jwt.encode(claims, key, algorithm="RS256", headers={"x5t": thumb})  # type: ignore[arg-type]
    form = {"grant_type": "client_credentials", "client_id": app["appId"], "scope": f"{MDE}/.default",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}  # fmt: skip
    for _ in range(2):
        assert _roles(control.post(path, data=form)) == ["Alert.Read.All"]
    head, body, sig = assertion.split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    assert _code(control.post(path, data={**form, "client_assertion": f"{head}.{body}.{flipped}"})) == 700027
    # Another app with the same certificate: the signature holds, but iss/sub name the first app.
    assert _code(control.post(path, data={**form, "client_id": other["appId"]})) == 700027
    control.delete(f"/_emulator/tenants/{app['tenantId']}/applications/{app['appId']}").raise_for_status()
    assert _code(control.post(path, data=form)) == 700016


def test_hostile_keys_are_answered_but_not_cached() -> None:
    """Huge tenant names, client ids and assertions are looked up / parsed, never kept in memory."""
    from mdekit.emulator.entra import assertions
    from mdekit.emulator.entra.errors import EntraError
    from mdekit.emulator.state import EmulatorState

    state = EmulatorState.open(None)
    try:
        d = state.directory
        tenant = d.create_tenant("Contoso")
        assert d.find_tenant(tenant.domain) == tenant
        before = len(d._cache._entries)
        assert d.find_tenant("x" * 5000) is None and d.find_application("y" * 5000) is None
        assert len(d._cache._entries) == before
        parsed = assertions._parse_cached.cache_info().currsize
        huge = ".".join(
            jwt.utils.base64url_encode(b'{"a":"' + b"z" * 20000 + b'"}').decode() for _ in range(3)
        )
        with pytest.raises(EntraError):
            assertions.verify_assertion(huge, client_id="c", audiences=[], certificates=[], now=[0.0])
        assert assertions._parse_cached.cache_info().currsize == parsed
    finally:
        state.close()
