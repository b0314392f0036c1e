"""App-only tokens from Entra ID: mdekit's one token client.

The client library (``Defender.from_secret``/``from_certificate``/``from_environment``/``from_profile``),
``mde token``, ``mde doctor`` and ``mde demo`` all get their tokens here. Pure pieces first (no I/O),
then what sends::

    req = build_token_request(TENANT, CLIENT_ID, secret=SECRET, scope=f"{MDE}/.default")  # or resource= (v1)
    tok = parse_token_response(status, body)        # TokenResponse, or AuthenticationError
    tok = request_token(TENANT, CLIENT_ID, SECRET, scope=f"{MDE}/.default")               # one POST

    cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET)   # azure-identity shape: get_token(*scopes)
    cred.get_token(f"{MDE}/.default").token

Failures raise :class:`~mdekit.errors.AuthenticationError` carrying Entra's ``error``, the AADSTS
``codes``, the HTTP ``status`` and a plain-words ``hint`` from :data:`AADSTS_HINTS` (the one table of
explanations), which the message repeats so the library and the CLI say the same; network failures
raise :class:`~mdekit.errors.TransportError`. Secrets never appear in messages or reprs.

One HTTP policy (:func:`http_session`): ``verify`` is ``True``, ``False``, an ``ssl.SSLContext`` or a
CA file (loaded once into a context); proxies and ``SSL_CERT_FILE`` come from the environment, as for
the API client. A client mdekit creates is closed after its request; a caller's ``transport`` is
never closed by mdekit. The credentials keep no connection open and do not cache (the client's
token provider caches, once, with refresh skew and a lock).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Self

from mdekit.clouds import get_cloud
from mdekit.errors import AuthenticationError, ConfigurationError, TransportError, register_secret

__all__ = [
    "AADSTS_HINTS",
    "ASSERTION_TYPE",
    "AccessToken",
    "CertificateCredential",
    "ClientCertificate",
    "ClientSecretCredential",
    "TokenHttpRequest",
    "TokenResponse",
    "build_token_request",
    "credential_from_environment",
    "explain_aadsts",
    "http_session",
    "load_certificate",
    "make_client_assertion",
    "managed_identity_credential",
    "parse_token_response",
    "request_token",
    "ssl_verify",
    "token_error",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# ---- what an AADSTS code means -----------------------------------------------------------------

#: AADSTS code -> what to do about it, in plain words (the one table: library, CLI and doctor use it).
AADSTS_HINTS: dict[int, str] = {
    7000215: "the client secret is wrong: use the secret's VALUE (shown once, when it is created), "
    "not its ID",
    7000222: "the client secret has expired: create a new one under Certificates & secrets",
    700016: "no app with this client id in this tenant: check the client id and the tenant id; "
    "a multi-tenant app needs admin consent in the customer tenant first (mde consent-url)",
    700011: "no app with this client id in this tenant: check the client id and the tenant id",
    90002: "the tenant was not found: check the tenant id or domain and the cloud (--cloud)",
    900023: "the tenant is neither a GUID nor a domain name such as contoso.onmicrosoft.com",
    70011: "the scope is not valid: app-only tokens need '<resource>/.default'",
    1002012: "client-credential scopes must end in '/.default' "
    "(e.g. https://api.securitycenter.microsoft.com/.default)",
    700022: "ask for one resource per token request",
    500011: "the resource has no service principal in the tenant: check the resource URI "
    "(is Defender for Endpoint provisioned there?)",
    70003: "only grant_type=client_credentials is supported for app-only access",
    900144: "a required form field is missing from the token request",
    90014: "a required field is missing from the client credential",
    7000218: "send a client secret or a certificate (client assertion)",
    700027: "the certificate assertion was refused: upload this certificate to the app registration and "
    "sign with its private key",
    700024: "the certificate assertion is outside its validity time: check this machine's clock",
    901002: "the v2 endpoint takes scope=<resource>/.default, not resource=",
    900561: "the token endpoint only accepts POST",
    9001023: "use a tenant id or domain in the token URL, not /common",
    50011: "the redirect URI is not registered for the app: add it under Authentication "
    "or use a registered one",
    65004: "the administrator declined consent: ask them to grant admin consent (mde consent-url)",
    7000112: "the application is disabled in the tenant: enable it under Enterprise applications",
    70001: "the application is disabled or not found in the tenant",
    53003: "blocked by Conditional Access: ask the tenant's administrator to allow this app or location",
    70016: "the sign-in is not finished yet: open the address shown, enter the code and sign in",
    70018: "the device code is not known (or belongs to another app): start the sign-in again",
    70019: "the sign-in code expired before anyone used it: start the sign-in again and finish it in time",
    70000: "the grant is not valid (already used, expired or revoked): sign in again",
    65001: "the signed-in user may not consent to these permissions for this app: an administrator "
    "(Cloud Application Administrator or higher) must sign in, or grant the permissions once for the tenant",
    700025: "a public client sends no client secret or certificate: leave the credential out",
}


def explain_aadsts(source: str | Iterable[int]) -> str | None:
    """The hint for the first known AADSTS code in *source* (a text such as an error message, or codes)."""
    codes = (int(m) for m in re.findall(r"AADSTS(\d+)", source)) if isinstance(source, str) else source
    return next((AADSTS_HINTS[c] for c in codes if c in AADSTS_HINTS), None)


def token_error(message: str, *, hint: str | None = None, **details: Any) -> AuthenticationError:
    """An :class:`AuthenticationError` whose message ends with its hint, as every token failure reads."""
    text = f"{message} (hint: {hint})" if hint else message
    return AuthenticationError(text, hint=hint, **details)


# ---- HTTP policy ------------------------------------------------------------------------------


def ssl_verify(verify: Any) -> Any:
    """httpx's ``verify=``: a CA file path (``str``/``Path``) becomes an ``ssl.SSLContext`` (loaded once)."""
    if not isinstance(verify, str | Path):
        return verify
    import ssl

    try:
        return ssl.create_default_context(cafile=str(verify))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigurationError(f"cannot use the CA file {verify}: {reason}") from None


@contextlib.contextmanager
def http_session(*, verify: Any = True, transport: Any = None, timeout: float = 30.0) -> Iterator[Any]:
    """An ``httpx.Client`` for token and key requests, closed afterwards unless built on *transport*.

    A caller's transport stays open for its next request (closing the client would close it).
    """
    import httpx

    client = httpx.Client(verify=ssl_verify(verify), transport=transport, timeout=timeout)
    try:
        yield client
    finally:
        if transport is None:
            client.close()


# ---- certificates and client assertions -------------------------------------------------------


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate credential: the private key and the certificate's DER bytes."""

    key: Any = field(repr=False)
    cert_der: bytes = field(repr=False)

    @property
    def sha1_thumbprint(self) -> str:
        """Hex SHA-1 thumbprint (what the portal shows)."""
        return hashlib.sha1(self.cert_der).hexdigest().upper()

    @property
    def sha256_thumbprint(self) -> str:
        """Hex SHA-256 thumbprint."""
        return hashlib.sha256(self.cert_der).hexdigest().upper()

    def __repr__(self) -> str:
        return f"ClientCertificate(sha1={self.sha1_thumbprint})"


def load_certificate(
    source: str | Path | bytes | ClientCertificate, password: bytes | str | None = None
) -> ClientCertificate:
    """Load the private key and the certificate: PEM text or bytes, a PEM file, or a PFX file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    if isinstance(source, ClientCertificate):
        return source
    if isinstance(password, str):
        password = password.encode()
    register_secret(password)
    if isinstance(source, bytes):
        data = source
    elif "-----BEGIN" in str(source):
        data = str(source).encode()
    else:
        try:
            data = Path(source).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read the certificate {source}: {exc.strerror or exc}") from None
    key: Any
    cert: Any
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=password)
            cert = x509.load_pem_x509_certificate(data)
        else:
            key, cert, _ = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot read the certificate: {exc} (need the private key and the certificate: PEM or PFX)"
        ) from None
    if key is None or cert is None:
        raise ConfigurationError("the certificate file must hold both the private key and the certificate")
    if not isinstance(key, rsa.RSAPrivateKey):  # Entra takes RS256/PS256 client assertions only
        raise ConfigurationError(f"the certificate's key must be RSA, not {type(key).__name__}")
    return ClientCertificate(key, cert.public_bytes(serialization.Encoding.DER))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_client_assertion(
    cert: ClientCertificate,
    client_id: str,
    audience: str,
    *,
    algorithm: str = "PS256",
    now: float | None = None,
    lifetime: int = 600,
) -> str:
    """A signed client assertion for *audience* (the token URL).

    ``PS256`` with the SHA-256 thumbprint ``x5t#S256`` is Entra's current recommendation (the default);
    ``RS256`` with the SHA-1 ``x5t`` is the older shape, still accepted (what msal sends for a PEM).
    """
    import jwt

    if algorithm == "PS256":
        headers = {"typ": "JWT", "x5t#S256": _b64url(hashlib.sha256(cert.cert_der).digest())}
    elif algorithm == "RS256":
        headers = {"typ": "JWT", "x5t": _b64url(hashlib.sha1(cert.cert_der).digest())}
    else:
        raise ConfigurationError(f"client assertions are signed with PS256 or RS256, not {algorithm!r}")
    issued = int(time.time() if now is None else now)
    claims = {"aud": audience, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()),
              "nbf": issued, "iat": issued, "exp": issued + lifetime}  # fmt: skip
    return jwt.encode(claims, cert.key, algorithm=algorithm, headers=headers)


# ---- the request and its answer ---------------------------------------------------------------


@dataclass(frozen=True)
class TokenHttpRequest:
    """A token request ready to send: URL and form fields (``repr`` hides the credential)."""

    url: str
    form: dict[str, str] = field(repr=False)
    version: int = 2


def _version(resource: str | None, scope: str | None, version: int | None) -> int:
    if (resource is None) == (scope is None):
        raise ConfigurationError("give exactly one of resource= (v1) or scope= (v2)")
    wanted = 1 if resource is not None else 2
    if version is not None and version != wanted:
        raise ConfigurationError("v1 requests take resource=, v2 requests take scope=")
    return wanted


def build_token_request(
    tenant: str,
    client_id: str,
    *,
    secret: str | None = None,
    certificate: ClientCertificate | None = None,
    resource: str | None = None,
    scope: str | None = None,
    version: int | None = None,
    authority: str | None = None,
    algorithm: str = "PS256",
    now: float | None = None,
) -> TokenHttpRequest:
    """The v1 (``resource``) or v2 (``scope``) client-credentials request; no I/O."""
    if not tenant or not client_id:
        raise ConfigurationError("a tenant id and a client id are required")
    if (not secret) == (certificate is None):
        raise ConfigurationError("give exactly one credential: a client secret or a certificate")
    v = _version(resource, scope, version)
    base = (authority or get_cloud("commercial").authority).rstrip("/")
    url = f"{base}/{tenant}/oauth2/{'token' if v == 1 else 'v2.0/token'}"
    form = {"grant_type": "client_credentials", "client_id": client_id}
    form["resource" if v == 1 else "scope"] = str(resource if v == 1 else scope)
    if certificate is not None:
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = make_client_assertion(
            certificate, client_id, url, algorithm=algorithm, now=now
        )
    else:
        form["client_secret"] = str(secret)
    return TokenHttpRequest(url, form, v)


@dataclass(frozen=True)
class TokenResponse:
    """A successful answer. v1 string numbers become ints; ``expires_on`` is filled for v2 too."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    expires_on: int
    resource: str | None = None


def _error_from_body(status: int, body: dict[str, Any]) -> AuthenticationError:
    raw_codes = body.get("error_codes") or []
    codes = tuple(int(c) for c in raw_codes if isinstance(c, int | str) and str(c).isdigit())
    description = str(body.get("error_description") or body.get("error") or f"HTTP {status}")
    first_line = description.splitlines()[0].strip()  # the rest is Trace/Correlation ID and time
    error = str(body["error"]) if body.get("error") else None
    return token_error(
        f"token request refused ({status} {error or 'error'}): {first_line}",
        hint=explain_aadsts(codes) or explain_aadsts(first_line), error=error, codes=codes, status=status,
    )  # fmt: skip


def parse_token_response(status: int, content: bytes | str, *, now: float | None = None) -> TokenResponse:
    """Turn the token endpoint's answer into a :class:`TokenResponse` or raise ``AuthenticationError``."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AuthenticationError(f"the token endpoint answered {status} without a JSON body", status=status)
    if status >= 400 or "error" in body:
        raise _error_from_body(status, body)
    token = body.get("access_token")
    try:
        expires_in = int(float(body["expires_in"]))
    except (KeyError, TypeError, ValueError):
        expires_in = -1
    if not isinstance(token, str) or not token or expires_in < 0:
        raise AuthenticationError(
            "the token endpoint answered without access_token/expires_in", status=status
        )
    if not token.startswith("eyJ"):  # an opaque token has no shape the scrubber knows
        register_secret(token)
    issued = int(time.time() if now is None else now)
    expires_on = int(body["expires_on"]) if str(body.get("expires_on", "")).isdigit() else issued + expires_in
    resource = body.get("resource")
    return TokenResponse(token, str(body.get("token_type", "Bearer")), expires_in, expires_on,
                         str(resource) if resource else None)  # fmt: skip


def request_token(
    tenant: str,
    client_id: str,
    secret: str | None = None,
    *,
    certificate: ClientCertificate | str | Path | bytes | None = None,
    password: bytes | str | None = None,
    resource: str | None = None,
    scope: str | None = None,
    version: int | None = None,
    authority: str | None = None,
    algorithm: str = "PS256",
    verify: Any = True,
    transport: Any = None,
    timeout: float = 30.0,
) -> TokenResponse:
    """Send one client-credentials request and parse the answer (no caching: one call, one POST)."""
    import httpx

    register_secret(secret)
    cert = None if certificate is None else load_certificate(certificate, password)
    req = build_token_request(
        tenant, client_id, secret=secret, certificate=cert, resource=resource, scope=scope,
        version=version, authority=authority, algorithm=algorithm,
    )  # fmt: skip
    with http_session(verify=verify, transport=transport, timeout=timeout) as client:
        try:
            response = client.post(req.url, data=req.form, headers={"Accept": "application/json"})
        except (httpx.HTTPError, OSError) as exc:
            where = req.url.split("/oauth2/")[0].rsplit("/", 1)[0]
            reason = str(exc) or type(exc).__name__
            raise TransportError(f"cannot reach the token endpoint at {where}: {reason}") from None
    return parse_token_response(response.status_code, response.content)


# ---- credentials (azure-identity shape) -------------------------------------------------------


class AccessToken(NamedTuple):
    """``(token, expires_on)`` exactly like ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: int

    def __repr__(self) -> str:
        return f"AccessToken(token='***', expires_on={self.expires_on})"


class _ClientCredential:
    """``get_token(*scopes)``: :func:`request_token` to ``{authority}/{tenant}/oauth2/v2.0/token``.

    *transport* (an httpx transport) stays the caller's: it is used, never closed. Without one,
    each token request opens its own connection and closes it (tokens are asked for rarely).
    """

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
        self.authority = (authority or get_cloud(cloud).authority).rstrip("/")
        self._verify = ssl_verify(verify)
        self._transport = transport
        self._timeout = timeout

    @property
    def token_url(self) -> str:
        """The v2 token endpoint of the tenant."""
        return f"{self.authority}/{self.tenant_id}/oauth2/v2.0/token"

    def _credential(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_token(self, *scopes: str, force: bool = False, **_: Any) -> AccessToken:
        """Request a new app-only token for *scopes* (``force`` is accepted; there is no cache here)."""
        if not scopes:
            raise ConfigurationError(
                "get_token needs a scope, e.g. https://api.securitycenter.microsoft.com/.default"
            )
        tok = request_token(self.tenant_id, self.client_id, scope=" ".join(scopes), authority=self.authority,
                            verify=self._verify, transport=self._transport, timeout=self._timeout,
                            **self._credential())  # fmt: skip
        return AccessToken(tok.access_token, tok.expires_on)

    def close(self) -> None:
        """Nothing to release: each token request closes its own connection (azure-identity shape)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"


class ClientSecretCredential(_ClientCredential):
    """App-only tokens with a client secret (kept out of ``repr`` and error text)."""

    def __init__(self, tenant_id: str, client_id: str, secret: str, **kwargs: Any) -> None:
        super().__init__(tenant_id, client_id, **kwargs)
        if not secret:
            raise ConfigurationError("the client secret is empty")
        register_secret(secret)
        self.__secret = secret

    def _credential(self) -> dict[str, Any]:
        return {"secret": self.__secret}


class CertificateCredential(_ClientCredential):
    """App-only tokens with a certificate: a client assertion (PS256 + ``x5t#S256``, or ``algorithm="RS256"``
    + SHA-1 ``x5t``).

    *certificate* is a PEM or PFX file path, PEM bytes, or a :class:`ClientCertificate`.
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        certificate: str | Path | bytes | ClientCertificate,
        *,
        password: bytes | str | None = None,
        algorithm: str = "PS256",
        **kwargs: Any,
    ) -> None:
        super().__init__(tenant_id, client_id, **kwargs)
        if algorithm not in ("PS256", "RS256"):
            raise ConfigurationError(f"client assertions are signed with PS256 or RS256, not {algorithm!r}")
        self._certificate = load_certificate(certificate, password)
        self._algorithm = algorithm

    def _credential(self) -> dict[str, Any]:
        return {"certificate": self._certificate, "algorithm": self._algorithm}


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
    return CertificateCredential(str(tenant), str(client), str(cert), password=password or None, **kw)


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
