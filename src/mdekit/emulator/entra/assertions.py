"""Certificate client assertions (``private_key_jwt``) as real clients send them.

Lenient where real clients are (real-clients-vs-emulator.md §4): RS256 + ``x5t`` (SHA-1) and
PS256 + ``x5t#S256`` (SHA-256), thumbprints padded or not, JWT segments padded or not (the aio
credential pads them), ``x5c`` with embedded newlines, float ``exp``/``iat``, no ``nbf``/``iat``,
and a ``jti`` reused for minutes (msal does). Strict where the service is: the key must belong to
the app, the signature must verify, ``aud`` must be one of the tenant's token URLs, ``iss`` and
``sub`` must be the client id, and the assertion must not have expired.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Iterable
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_pem_x509_certificate

from mdekit.emulator.entra.directory import CertificateInfo
from mdekit.emulator.entra.errors import EntraError

__all__ = ["ASSERTION_TYPE", "LEEWAY_SECONDS", "verify_assertion"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Clock skew tolerated on ``exp``/``nbf``.
LEEWAY_SECONDS = 300
_PKCS1 = padding.PKCS1v15()
# Entra expects a 32-byte salt; AUTO accepts whatever salt length the client chose.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
_SHA256 = hashes.SHA256()
# (assertion, certificate SHA-256) pairs whose signature verified. Only the signature verdict is
# remembered: the certificate is looked up among the app's current ones, and the claims and
# lifetime are checked, on every request.
_VERIFIED: dict[tuple[str, str], None] = {}
_VERIFIED_MAX = 4096
_CACHED_ASSERTION_MAX = 16384


def _b64decode(segment: str) -> bytes:
    """Base64url with or without ``=`` padding (standard alphabet tolerated too)."""
    s = "".join(segment.split()).rstrip("=")
    return base64.urlsafe_b64decode(s.replace("+", "-").replace("/", "_") + "=" * (-len(s) % 4))


def _thumb(value: Any) -> str:
    return str(value).strip().rstrip("=") if value else ""


@functools.lru_cache(maxsize=4096)
def _b64url_hex(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")


@functools.lru_cache(maxsize=1024)
def _public_key(pem: str) -> Any:
    # Parsing the certificate cost more than verifying the signature; the key depends on the PEM
    # text alone, so the cache can never be stale (a removed certificate is simply not offered).
    return load_pem_x509_certificate(pem.encode()).public_key()


@functools.lru_cache(maxsize=256)
def _normalized(audiences: tuple[str, ...]) -> frozenset[str]:
    return frozenset(a.rstrip("/").lower() for a in audiences)


def _parse(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    # Cached: clients reuse one assertion for minutes (msal); the parts are only ever read.
    # Real assertions are ~1-3 KB (x5c included); larger ones are parsed but not kept.
    if len(assertion) > _CACHED_ASSERTION_MAX:
        return _parse_once(assertion)
    return _parse_cached(assertion)


def _parse_once(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = assertion.strip().split(".")
    if len(parts) != 3:
        raise EntraError(700027, reason="The client assertion is not a JWT.")
    try:
        header = orjson.loads(_b64decode(parts[0]))
        claims = orjson.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise EntraError(700027, reason="The client assertion is not a well-formed JWT.") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise EntraError(700027, reason="The client assertion is not a well-formed JWT.")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


_parse_cached = functools.lru_cache(maxsize=1024)(_parse_once)


def _find_certificate(header: dict[str, Any], certs: list[CertificateInfo]) -> CertificateInfo:
    s256, s1 = _thumb(header.get("x5t#S256")), _thumb(header.get("x5t"))
    x5c = header.get("x5c")
    x5c_sha256 = ""
    if isinstance(x5c, list) and x5c:
        try:
            der = base64.b64decode("".join(str(x5c[0]).split()))
            x5c_sha256 = hashlib.sha256(der).hexdigest().upper()
        except (ValueError, binascii.Error):
            x5c_sha256 = ""
    for cert in certs:
        if (s256 and s256 == _b64url_hex(cert.sha256)) or (s1 and s1 == _b64url_hex(cert.sha1)):
            return cert
        if not s256 and not s1 and x5c_sha256 == cert.sha256:
            return cert
    raise EntraError(700027, reason="The key was not found.")


def _check_signature(header: dict[str, Any], cert: CertificateInfo, signed: bytes, signature: bytes) -> None:
    key = _public_key(cert.pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise EntraError(700027, reason="The key is not an RSA key.")
    alg = header.get("alg")
    if alg == "RS256":
        pad: padding.AsymmetricPadding = _PKCS1
    elif alg == "PS256":
        pad = _PSS
    else:
        raise EntraError(700027, reason=f"The algorithm '{alg}' is not supported; use RS256 or PS256.")
    try:
        key.verify(signature, signed, pad, _SHA256)
    except InvalidSignature:
        raise EntraError(700027, reason="The signature is invalid.") from None


def _check_claims(
    claims: dict[str, Any], client_id: str, audiences: Iterable[str], now: Iterable[float]
) -> None:
    aud = str(claims.get("aud", "")).rstrip("/").lower()
    if aud not in _normalized(tuple(audiences)):
        raise EntraError(
            700027, reason=f"The audience '{claims.get('aud')}' is not this tenant's token endpoint."
        )
    if (
        str(claims.get("iss", "")).lower() != client_id.lower()
        or str(claims.get("sub", "")).lower() != client_id.lower()
    ):
        raise EntraError(700027, reason="The 'iss' and 'sub' claims must both be the client id.")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise EntraError(700027, reason="The 'exp' claim is missing.")
    times = list(now)
    # Valid by either clock: clients sign with the machine's clock, tests may have moved ours.
    if exp + LEEWAY_SECONDS < min(times):
        raise EntraError(700024, reason="The assertion has expired.")
    if isinstance(nbf, int | float) and nbf - LEEWAY_SECONDS > max(times):
        raise EntraError(700024, reason="The assertion is not valid yet.")


def verify_assertion(
    assertion: str,
    *,
    client_id: str,
    audiences: Iterable[str],
    certificates: list[CertificateInfo],
    now: Iterable[float],
) -> CertificateInfo:
    """Check *assertion* for *client_id*; return the certificate that signed it.

    *now* holds the times to judge ``exp``/``nbf`` by (the virtual clock and the wall clock):
    the assertion is accepted if it is valid by either. Raises :class:`EntraError` (700027,
    700024) naming the failed check.
    """
    header, claims, signed, signature = _parse(assertion)
    cert = _find_certificate(header, certificates)  # against the app's certificates of now
    seen = (assertion, cert.sha256)
    if seen not in _VERIFIED:  # same bytes, same certificate: same verdict as last time
        _check_signature(header, cert, signed, signature)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        if len(assertion) <= _CACHED_ASSERTION_MAX:
            _VERIFIED[seen] = None
    _check_claims(claims, client_id, audiences, now)
    return cert
