"""A small app-only token requester: v1 (``resource=``) and v2 (``scope=``), secret or certificate.

Pure pieces first (no I/O), then one function that sends::

    req = build_token_request("contoso.onmicrosoft.com", CLIENT_ID, secret=SECRET,
                              resource="https://api.securitycenter.microsoft.com")  # v1
    tok = parse_token_response(status, body)             # TokenResponse or AuthenticationError

    tok = request_token(TENANT, CLIENT_ID, SECRET, scope="https://api.securitycenter.microsoft.com/.default")
    tok.access_token, tok.expires_in, tok.expires_on

:func:`request_token` accepts an ``httpx`` transport (tests, the embedded emulator) and ``verify=``
(a CA file for the emulator). Failures raise :class:`~mdekit.errors.AuthenticationError` carrying
Entra's ``error``, the AADSTS ``codes``, the HTTP ``status`` and a plain-words ``hint``; network
failures raise :class:`~mdekit.errors.TransportError`. Secrets never appear in messages or reprs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdekit.errors import AuthenticationError, ConfigurationError, TransportError

__all__ = [
    "ASSERTION_TYPE",
    "HINTS",
    "ClientCertificate",
    "TokenHttpRequest",
    "TokenResponse",
    "build_token_request",
    "hint_for",
    "load_certificate",
    "make_client_assertion",
    "parse_token_response",
    "request_token",
    "ssl_verify",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"

#: AADSTS code -> what to do about it, in plain words.
HINTS: dict[int, str] = {
    7000215: "the client secret is wrong: you probably pasted the secret ID instead of the secret VALUE "
    "(the value is shown only once, when the secret is created)",
    7000222: "the client secret has expired: create a new one under Certificates & secrets",
    700016: "the app is not in this tenant: check the client id and tenant id; a multi-tenant app needs "
    "admin consent in the customer tenant first (mde consent-url)",
    90002: "the tenant was not found: check the tenant id or domain and the cloud (--cloud)",
    900023: "the tenant is neither a GUID nor a domain name such as contoso.onmicrosoft.com",
    70011: "the scope is not valid: app-only tokens need '<resource>/.default'",
    1002012: "client-credential scopes must end in '/.default' (e.g. https://api.securitycenter.microsoft.com/.default)",
    700022: "ask for one resource per token request",
    500011: "the resource was not found in the tenant: check the resource URI (is Defender for Endpoint "
    "provisioned there?)",
    70003: "only grant_type=client_credentials is supported for app-only access",
    900144: "a required form field is missing from the token request",
    7000218: "send a client secret or a certificate (client assertion)",
    700027: "the certificate assertion was refused: upload this certificate to the app registration and "
    "sign with its private key",
    700024: "the certificate assertion is outside its validity time: check this machine's clock",
    901002: "the v2 endpoint takes scope=<resource>/.default, not resource=",
    900561: "the token endpoint only accepts POST",
    9001023: "use a tenant id or domain in the token URL, not /common",
}


def ssl_verify(verify: Any) -> Any:
    """httpx's ``verify=``: a CA file path (``str``/``Path``) becomes an ``ssl.SSLContext``."""
    if isinstance(verify, str | Path):
        import ssl

        return ssl.create_default_context(cafile=str(verify))
    return verify


def hint_for(codes: tuple[int, ...]) -> str | None:
    """The plain-words hint for the first known code."""
    return next((HINTS[c] for c in codes if c in HINTS), None)


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate credential: the private key (PEM) and the certificate's DER bytes."""

    key_pem: str
    cert_der: bytes

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


def load_certificate(source: str | Path, password: bytes | None = None) -> ClientCertificate:
    """Load a PEM file (or PEM text) holding the private key and the certificate, or a PFX file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    text = str(source)
    data = text.encode() if "-----BEGIN" in text else Path(text).expanduser().read_bytes()
    key: Any
    cert: Any
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=password)
            cert = x509.load_pem_x509_certificate(data)
        else:
            key, cert, _ = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"cannot read the certificate: {exc}") from None
    if key is None or cert is None:
        raise ConfigurationError("the certificate file must hold both the private key and the certificate")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return ClientCertificate(key_pem, cert.public_bytes(serialization.Encoding.DER))


def make_client_assertion(
    cert: ClientCertificate, client_id: str, audience: str, *, now: float | None = None, lifetime: int = 600
) -> str:
    """A PS256 client assertion with ``x5t#S256`` (Entra's current recommendation)."""
    import jwt

    issued = int(time.time() if now is None else now)
    claims = {"aud": audience, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()),
              "nbf": issued, "iat": issued, "exp": issued + lifetime}  # fmt: skip
    x5t = base64.urlsafe_b64encode(hashlib.sha256(cert.cert_der).digest()).decode().rstrip("=")
    return jwt.encode(claims, cert.key_pem, algorithm="PS256", headers={"x5t#S256": x5t, "typ": "JWT"})


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
    authority: str = DEFAULT_AUTHORITY,
    now: float | None = None,
) -> TokenHttpRequest:
    """The v1 (``resource``) or v2 (``scope``) client-credentials request; no I/O."""
    if not tenant or not client_id:
        raise ConfigurationError("a tenant and a client id are required")
    if (secret is None) == (certificate is None):
        raise ConfigurationError("give exactly one credential: a client secret or a certificate")
    v = _version(resource, scope, version)
    url = f"{authority.rstrip('/')}/{tenant}/oauth2/{'token' if v == 1 else 'v2.0/token'}"
    form = {"grant_type": "client_credentials", "client_id": client_id}
    if v == 1:
        form["resource"] = str(resource)
    else:
        form["scope"] = str(scope)
    if certificate is not None:
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = make_client_assertion(certificate, client_id, url, now=now)
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

    def __str__(self) -> str:
        return f"TokenResponse(token_type={self.token_type}, expires_in={self.expires_in})"


def _error_from_body(status: int, body: dict[str, Any]) -> AuthenticationError:
    raw_codes = body.get("error_codes") or []
    codes = tuple(int(c) for c in raw_codes if isinstance(c, int | str) and str(c).isdigit())
    description = str(body.get("error_description") or body.get("error") or f"HTTP {status}")
    first_line = description.splitlines()[0].strip()
    error = str(body["error"]) if body.get("error") else None
    return AuthenticationError(
        f"token request failed ({status} {error or 'error'}): {first_line}",
        error=error, codes=codes, hint=hint_for(codes), status=status,
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
        expires_in = int(body["expires_in"])
    except (KeyError, TypeError, ValueError):
        expires_in = -1
    if not isinstance(token, str) or not token or expires_in < 0:
        raise AuthenticationError(
            "the token endpoint answered without access_token/expires_in", status=status
        )
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
    certificate: ClientCertificate | str | Path | None = None,
    resource: str | None = None,
    scope: str | None = None,
    version: int | None = None,
    authority: str = DEFAULT_AUTHORITY,
    verify: Any = True,
    transport: Any = None,
    timeout: float = 30.0,
) -> TokenResponse:
    """Send one client-credentials request and parse the answer (no caching: one call, one POST)."""
    import httpx

    cert = load_certificate(certificate) if isinstance(certificate, str | Path) else certificate
    req = build_token_request(tenant, client_id, secret=secret, certificate=cert, resource=resource,
                              scope=scope, version=version, authority=authority)  # fmt: skip
    client = httpx.Client(verify=ssl_verify(verify), transport=transport, timeout=timeout, trust_env=False)
    try:
        response = client.post(req.url, data=req.form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise TransportError(f"cannot reach {req.url.split('/oauth2')[0]}: {exc}") from None
    finally:
        if transport is None:  # a caller's transport stays open for its next request
            client.close()
    return parse_token_response(response.status_code, response.content)
