"""Credentials against the emulated Entra ID token service (real HTTPS, real RS256 tokens)."""

from __future__ import annotations

import datetime as dt
import gc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mdekit.auth.credentials import (
    CertificateCredential,
    ClientSecretCredential,
    credential_from_environment,
    explain_aadsts,
    ssl_verify,
)
from mdekit.client.core import decode_claims
from mdekit.client.defender import Defender
from mdekit.client.tokens import TokenProvider
from mdekit.errors import AuthenticationError, ConfigurationError, MdeError, PermissionMissingError

SCOPE = "https://api.securitycenter.microsoft.com/.default"


def _kw(env: Any) -> dict[str, Any]:
    return {"authority": env.server.url, "verify": str(env.server.ca_cert)}


def test_secret_credential_gets_token_with_roles(env: Any) -> None:
    app = env.app(["Alert.Read.All", "Machine.Isolate"])
    cred = ClientSecretCredential(app["tenant"], app["appId"], app["secret"], **_kw(env))
    tok = cred.get_token(SCOPE)
    claims = decode_claims(tok.token) or {}
    assert sorted(claims["roles"]) == ["Alert.Read.All", "Machine.Isolate"]
    assert claims["appid"] == app["appId"] or claims.get("azp") == app["appId"]
    assert app["secret"] not in repr(cred) and "***" in repr(tok)


def test_wrong_secret_gives_aadsts_code_and_hint_without_secret(env: Any) -> None:
    app = env.app(["Alert.Read.All"])
    bad = "definitely-not-the-secret"
    cred = ClientSecretCredential(app["tenant"], app["appId"], bad, **_kw(env))
    with pytest.raises(AuthenticationError) as info:
        cred.get_token(SCOPE)
    err = info.value
    assert 7000215 in err.codes and err.error == "invalid_client"
    assert err.hint and "VALUE" in err.hint
    assert bad not in str(err)


def test_unknown_tenant_and_app(env: Any) -> None:
    app = env.app(["Alert.Read.All"])
    with pytest.raises(AuthenticationError) as info:
        ClientSecretCredential(
            "00000000-0000-0000-0000-000000000001", app["appId"], "x", **_kw(env)
        ).get_token(SCOPE)
    assert info.value.codes and info.value.hint
    with pytest.raises(AuthenticationError) as info2:
        ClientSecretCredential(
            app["tenant"], "11111111-1111-1111-1111-111111111111", "x", **_kw(env)
        ).get_token(SCOPE)
    assert 700016 in info2.value.codes


def _cert_pem(tmp: Path) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdekit-client-test")])
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
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp / "client.pem"
    path.write_bytes(key_pem + cert_pem)
    return path, cert_pem.decode()


def test_certificate_credential(env: Any, tmp_path: Path) -> None:
    path, cert_pem = _cert_pem(tmp_path)
    body = {
        "displayName": "cert app",
        "permissions": ["Machine.Read.All"],
        "grantConsent": True,
        "secret": False,
        "certificatePem": cert_pem,
    }
    created = env._post(f"/_emulator/tenants/{env.tid}/applications", body)
    cred = CertificateCredential(env.tid, created["appId"], path, **_kw(env))
    assert (decode_claims(cred.get_token(SCOPE).token) or {})["roles"] == ["Machine.Read.All"]
    with pytest.raises(ConfigurationError):
        CertificateCredential(env.tid, created["appId"], tmp_path / "missing.pem")


def test_environment_credential(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = env.app(["Alert.Read.All"])
    for name in (
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="AZURE_TENANT_ID"):
        credential_from_environment()
    monkeypatch.setenv("AZURE_TENANT_ID", app["tenant"])
    monkeypatch.setenv("AZURE_CLIENT_ID", app["appId"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", app["secret"])
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", env.server.url)
    client = Defender.from_environment(base_url=env.server.url, verify=str(env.server.ca_cert))
    assert client.tokens.get().roles == ("Alert.Read.All",)
    client.close()


def test_azure_identity_credential_is_accepted(env: Any) -> None:
    from azure.identity import ClientSecretCredential as AzureSecret

    app = env.app(["Alert.Read.All"])
    cred = AzureSecret(
        app["tenant"],
        app["appId"],
        app["secret"],
        authority=env.server.url,
        disable_instance_discovery=True,
        connection_verify=str(env.server.ca_cert),
    )
    provider = TokenProvider(cred, SCOPE)
    assert provider.get().roles == ("Alert.Read.All",)
    bad = AzureSecret(
        app["tenant"],
        app["appId"],
        "not-the-real-secret-value",
        authority=env.server.url,
        disable_instance_discovery=True,
        connection_verify=str(env.server.ca_cert),
    )
    with pytest.raises(AuthenticationError) as info:  # not azure.core's ClientAuthenticationError
        TokenProvider(bad, SCOPE).get()
    assert isinstance(info.value, MdeError) and "not-the-real-secret-value" not in str(info.value)
    assert info.value.hint and "secret" in info.value.hint


def test_explain_aadsts() -> None:
    assert explain_aadsts("AADSTS7000222: The provided client secret keys are expired") is not None
    assert explain_aadsts("no code here") is None


def test_in_process_transport_serves_token_requests(env: Any) -> None:
    app = env.app(["Machine.Read.All"])
    with env.client(app) as client:  # AsgiTransport: no socket for the token request either
        assert client.tokens.get().roles == ("Machine.Read.All",)
        assert client.tokens.get() is client.tokens.get()
        assert client.token_requests == 1


def test_async_provider_with_azure_identity_aio(env: Any) -> None:
    import asyncio

    from azure.identity.aio import ClientSecretCredential as AioSecret

    from mdekit.client.tokens import AsyncTokenProvider

    app = env.app(["Alert.Read.All"])

    async def go() -> tuple[tuple[str, ...], int]:
        cred = AioSecret(
            app["tenant"],
            app["appId"],
            app["secret"],
            authority=env.server.url,
            connection_verify=str(env.server.ca_cert),
        )
        async with cred:
            provider = AsyncTokenProvider(cred, SCOPE)
            tokens = await asyncio.gather(*(provider.get() for _ in range(10)))
            return tokens[0].roles, provider.requests

    roles, requests = asyncio.run(go())
    assert roles == ("Alert.Read.All",) and requests == 1


# ---- a caching credential (azure-identity) after the API refused its token ----------------------


def _azure_credential(env: Any, app: dict[str, Any]) -> Any:
    from azure.identity import ClientSecretCredential as AzureSecret

    ca = str(env.server.ca_cert)
    return AzureSecret(app["tenant"], app["appId"], app["secret"], authority=env.server.url,
                       disable_instance_discovery=True, connection_verify=ca)  # fmt: skip


def _calls(env: Any, since: int, path: str) -> list[dict[str, Any]]:
    return [e for e in env.state.journal.entries()[since:] if e["path"].endswith(path)]


def test_revoked_consent_with_a_caching_credential_names_consent(env: Any) -> None:
    app = env.app(["Alert.Read.All"])
    tls = ssl_verify(str(env.server.ca_cert))
    with Defender(_azure_credential(env, app), base_url=env.server.url, verify=tls) as mde:
        assert list(mde.alerts.list(limit=1)) is not None  # a token with the role, cached by azure-identity
        r = env.control.delete(f"/_emulator/tenants/{app['tenant']}/consent/{app['appId']}")
        assert r.status_code == 204, r.text
        before = len(env.state.journal.entries())
        with pytest.raises(AuthenticationError) as info:
            mde.alerts.get("da637000000000000000_1")
    err = info.value
    assert type(err) is AuthenticationError and err.status == 401 and err.exit_code == 3
    assert "same token again" in str(err) and "consent" in str(err) and "new credential" in str(err)
    assert "returned the same one again" not in str(err)
    assert len(_calls(env, before, "/api/alerts/da637000000000000000_1")) == 1  # not resent in vain
    assert not _calls(env, before, "/oauth2/v2.0/token")  # azure-identity answered from its cache
    # mdekit's own credential does not cache: its fresh request is refused by Entra, explained
    own_client = Defender.from_secret(app["tenant"], app["appId"], app["secret"], base_url=env.server.url,
                                      authority=env.server.url, verify=tls)  # fmt: skip
    with own_client, pytest.raises(AuthenticationError) as own:
        own_client.alerts.get("x")
    assert 700016 in own.value.codes and "consent" in (own.value.hint or "")


def test_missing_role_with_a_caching_credential_is_a_permission_error(env: Any) -> None:
    app = env.app(["Alert.Read.All"])
    tls = ssl_verify(str(env.server.ca_cert))
    with Defender(_azure_credential(env, app), base_url=env.server.url, verify=tls, preflight=False) as mde:
        assert list(mde.alerts.list(limit=1)) is not None
        grant = {"add": ["Machine.Read.All"]}
        base = f"/_emulator/tenants/{app['tenant']}"
        assert env.control.post(f"{base}/applications/{app['appId']}/permissions", json=grant).is_success
        assert env.control.post(f"{base}/consent", json={"appId": app["appId"]}).is_success
        before = len(env.state.journal.entries())
        with pytest.raises(PermissionMissingError) as info:  # granted now, but not in the cached token
            list(mde.machines.list(limit=1))
    err = info.value
    assert err.sent and err.granted == ("Alert.Read.All",) and "Machine.Read.All" in err.required
    assert "same token again" in str(err) and "create a new credential" in str(err)
    assert len(_calls(env, before, "/api/machines")) == 1
    # ... and the advice works: a new credential gets a new token that carries the new role
    with Defender(_azure_credential(env, app), base_url=env.server.url, verify=tls) as fresh:
        assert list(fresh.machines.list(limit=1)) is not None


# ---- who closes which connection ----------------------------------------------------------------


class _Tracked(httpx.HTTPTransport):
    """A real HTTPS transport that records the paths it carried and whether it was closed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths: list[str] = []
        self.closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)

    def close(self) -> None:
        self.closed = True
        super().close()


def _resource_warnings(work: Callable[[], None]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        work()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_connections_the_token_client_opens_are_closed(env: Any) -> None:
    app = env.app(["Alert.Read.All"])
    tls = ssl_verify(str(env.server.ca_cert))

    def credential_alone() -> None:
        cred = ClientSecretCredential(app["tenant"], app["appId"], app["secret"], authority=env.server.url,
                                      verify=tls)  # fmt: skip
        for _ in range(3):
            cred.get_token(SCOPE)
        del cred

    def client_over_https() -> None:
        with Defender.from_secret(app["tenant"], app["appId"], app["secret"], base_url=env.server.url,
                                  authority=env.server.url, verify=tls) as mde:  # fmt: skip
            list(mde.alerts.list(limit=1))

    assert _resource_warnings(credential_alone) == []
    assert _resource_warnings(client_over_https) == []


def test_transports_passed_in_are_used_but_never_closed(env: Any) -> None:
    from mdekit.auth.credentials import request_token
    from mdekit.auth.inspect import fetch_jwks

    app = env.app(["Alert.Read.All"])
    tls = ssl_verify(str(env.server.ca_cert))
    token_side, api_side = _Tracked(verify=tls), _Tracked(verify=tls)
    try:
        with Defender.from_secret(app["tenant"], app["appId"], app["secret"], base_url=env.server.url,
                                  authority=env.server.url, transport=api_side,
                                  token_transport=token_side) as mde:  # fmt: skip
            list(mde.alerts.list(limit=1))
        request_token(app["tenant"], app["appId"], app["secret"], scope=SCOPE, authority=env.server.url,
                      transport=token_side)  # fmt: skip
        fetch_jwks(f"{env.server.url}/common/discovery/keys", transport=token_side)
        assert not token_side.closed  # the caller's: used three times, still open and usable
        assert [p for p in token_side.paths if p.endswith("/token")] == [
            f"/{app['tenant']}/oauth2/v2.0/token"
        ] * 2
        assert not any("/oauth2/" in p for p in api_side.paths)  # the API transport carried no token request
        with httpx.Client(transport=token_side, base_url=env.server.url) as again:
            assert again.get("/common/discovery/keys").status_code == 200
    finally:
        token_side.close()
        api_side.close()
