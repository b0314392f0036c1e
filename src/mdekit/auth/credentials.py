"""Credentials for app-only tokens: client secret, certificate, environment, managed identity.

Every credential here has the azure-identity shape ``get_token(*scopes) -> AccessToken`` (``.token``,
``.expires_on``), so :class:`mdekit.Defender` takes them and any azure-identity credential alike.
mdekit's own secret and certificate credentials talk to the token endpoint with httpx and do *not*
cache (the client's token provider does, once, with refresh skew and a lock); they also accept
``force=True``, which the client passes after a 401. Errors are :class:`~mdekit.errors.AuthenticationError`
with Entra's ``error``, the AADSTS codes and a plain-words hint; secrets never appear in messages or
``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

from mdekit.clouds import get_cloud
from mdekit.errors import AuthenticationError, ConfigurationError, TransportError

__all__ = [
    "AccessToken",
    "CertificateCredential",
    "ClientSecretCredential",
    "credential_from_environment",
    "explain_aadsts",
    "managed_identity_credential",
]


class AccessToken(NamedTuple):
    """``(token, expires_on)`` exactly like ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: int

    def __repr__(self) -> str:
        return f"AccessToken(token='***', expires_on={self.expires_on})"


#: AADSTS code -> what to do about it, in plain words.
AADSTS_HINTS: dict[int, str] = {
    7000215: "the client secret is wrong: use the secret's VALUE (shown once at creation), not its ID",
    7000222: "the client secret has expired: create a new one under Certificates & secrets",
    700016: "no app with this client id in this tenant: check the client id and the tenant id, and that the "
    "app is consented in the tenant",
    700011: "no app with this client id in this tenant: check the client id and the tenant",
    90002: "the tenant does not exist (check the tenant id or domain, and the cloud)",
    900023: "the tenant id is neither a GUID nor a valid domain name",
    70011: "the scope is not valid: client credentials need '<resource>/.default'",
    1002012: "client credential flows need a scope ending in /.default",
    500011: "the resource (WindowsDefenderATP) has no service principal in the tenant: is Defender for "
    "Endpoint provisioned there?",
    700027: "the client assertion signature did not verify: upload this certificate to the app registration",
    7000218: "send a client secret or a certificate assertion",
    7000112: "the application is disabled",
    70001: "the application is disabled or not found",
    53003: "blocked by Conditional Access",
}


def explain_aadsts(text: str) -> str | None:
    """The hint for the first AADSTS code found in *text*, if known."""
    for match in re.finditer(r"AADSTS(\d+)", text):
        hint = AADSTS_HINTS.get(int(match.group(1)))
        if hint:
            return hint
    return None


def _authority(cloud: str, authority: str | None) -> str:
    return (authority or get_cloud(cloud).authority).rstrip("/")


class _HttpCredential:
    """Shared client-credentials exchange against ``{authority}/{tenant}/oauth2/v2.0/token``."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        *,
        authority: str | None = None,
        cloud: str = "commercial",
        verify: Any = True,
        transport: Any = None,
        timeout: float = 30.0,
    ) -> None:
        if not tenant_id or not client_id:
            raise ConfigurationError("a tenant id and a client id are required")
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.authority = _authority(cloud, authority)
        self._verify = verify
        self._transport = transport
        self._timeout = timeout
        self._http: Any = None

    @property
    def token_url(self) -> str:
        """The v2 token endpoint of the tenant."""
        return f"{self.authority}/{self.tenant_id}/oauth2/v2.0/token"

    def _secret_fields(self) -> dict[str, str]:
        raise NotImplementedError

    def get_token(self, *scopes: str, force: bool = False, **_: Any) -> AccessToken:
        """Request a new app-only token for *scopes* (``force`` is accepted; there is no cache here)."""
        if not scopes:
            raise ConfigurationError(
                "get_token needs a scope, e.g. https://api.securitycenter.microsoft.com/.default"
            )
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "scope": " ".join(scopes)}
        form.update(self._secret_fields())
        return _parse_token(self._post(form))

    def _post(self, form: dict[str, str]) -> Any:
        import httpx

        try:
            if self._transport is None:  # a short-lived connection: nothing stays open (tokens are cached)
                with httpx.Client(verify=self._verify, timeout=self._timeout) as http:
                    return http.post(self.token_url, data=form, headers={"Accept": "application/json"})
            if self._http is None:  # kept open: closing it would close the caller's transport
                self._http = httpx.Client(verify=self._verify, transport=self._transport, timeout=self._timeout)
            return self._http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except (httpx.HTTPError, OSError) as exc:
            raise TransportError(f"token request to {self.authority} failed: {type(exc).__name__}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"


def _parse_token(resp: Any) -> AccessToken:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        expires_in = int(float(body.get("expires_in", 3599)))
        return AccessToken(str(body["access_token"]), int(time.time()) + expires_in)
    raise _token_error(resp.status_code, body)


def _token_error(status: int, body: Any) -> AuthenticationError:
    if not isinstance(body, dict):
        return AuthenticationError(f"token endpoint answered HTTP {status}", status=status)
    desc = str(body.get("error_description") or "").split("\r\n")[0].split("\n")[0]
    codes = tuple(int(c) for c in body.get("error_codes") or () if isinstance(c, int))
    error = str(body.get("error") or "") or None
    hint = explain_aadsts(desc) or (AADSTS_HINTS.get(codes[0]) if codes else None)
    message = f"token request refused: {error or 'error'}: {desc}" + (f" (hint: {hint})" if hint else "")
    return AuthenticationError(message, error=error, codes=codes, hint=hint, status=status)


class ClientSecretCredential(_HttpCredential):
    """App-only tokens with a client secret (kept out of ``repr`` and error text)."""

    def __init__(self, tenant_id: str, client_id: str, secret: str, **kwargs: Any) -> None:
        super().__init__(tenant_id, client_id, **kwargs)
        if not secret:
            raise ConfigurationError("the client secret is empty")
        self.__secret = secret

    def _secret_fields(self) -> dict[str, str]:
        return {"client_secret": self.__secret}


class CertificateCredential(_HttpCredential):
    """App-only tokens with a certificate: an RS256 client assertion carrying the SHA-1 ``x5t``.

    *certificate* is a PEM file path (or PEM bytes) holding the private key and the certificate.
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        certificate: str | Path | bytes,
        *,
        password: bytes | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(tenant_id, client_id, **kwargs)
        self._key, self._thumbprint = _load_pem(certificate, password)

    def _secret_fields(self) -> dict[str, str]:
        import jwt

        now = int(time.time())
        claims = {
            "aud": self.token_url,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        }
        assertion = jwt.encode(claims, self._key, algorithm="RS256", headers={"x5t": self._thumbprint})
        return {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }


def _load_pem(certificate: str | Path | bytes, password: bytes | None) -> tuple[Any, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        data = certificate if isinstance(certificate, bytes) else Path(certificate).read_bytes()
        key = serialization.load_pem_private_key(data, password=password)
        cert = x509.load_pem_x509_certificate(data)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot read the certificate: {type(exc).__name__}: need a PEM with key and certificate"
        ) from None
    der = cert.public_bytes(serialization.Encoding.DER)
    thumb = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
    return key, thumb


def credential_from_environment(
    *, authority: str | None = None, cloud: str = "commercial", verify: Any = True, transport: Any = None
) -> ClientSecretCredential | CertificateCredential:
    """A credential from ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET`` or
    ``AZURE_CLIENT_CERTIFICATE_PATH`` (+ ``AZURE_CLIENT_CERTIFICATE_PASSWORD``); ``AZURE_AUTHORITY_HOST``
    sets the authority when *authority* is not given.
    """
    env = os.environ
    tenant, client = env.get("AZURE_TENANT_ID"), env.get("AZURE_CLIENT_ID")
    missing = [n for n, v in (("AZURE_TENANT_ID", tenant), ("AZURE_CLIENT_ID", client)) if not v]
    secret, cert = env.get("AZURE_CLIENT_SECRET"), env.get("AZURE_CLIENT_CERTIFICATE_PATH")
    if not secret and not cert:
        missing.append("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
    if missing:
        raise ConfigurationError(f"environment credential: missing {', '.join(missing)}")
    host = authority or env.get("AZURE_AUTHORITY_HOST")
    if host and "://" not in host:
        host = "https://" + host
    kw: dict[str, Any] = {"authority": host, "cloud": cloud, "verify": verify, "transport": transport}
    if secret:
        return ClientSecretCredential(str(tenant), str(client), secret, **kw)
    password = env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD")
    return CertificateCredential(
        str(tenant), str(client), str(cert), password=password.encode() if password else None, **kw
    )


def managed_identity_credential(client_id: str | None = None, **kwargs: Any) -> Any:
    """azure-identity's ``ManagedIdentityCredential`` (system-assigned, or user-assigned by *client_id*).

    Its exceptions are translated by the client's token provider like any credential's.
    """
    from azure.identity import ManagedIdentityCredential

    return (
        ManagedIdentityCredential(client_id=client_id, **kwargs)
        if client_id
        else ManagedIdentityCredential(**kwargs)
    )
