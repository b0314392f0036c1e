"""The token service's signing key: RS256, published as a JWKS, verified with a cached key.

The key and its self-signed certificate are created once per emulator data file and kept in
the ``meta`` table, so tokens stay valid across restarts. ``kid`` == ``x5t`` == base64url SHA-1
of the certificate, as Entra publishes them (service-facts.md §1.7, §2.2).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from mdekit.emulator.db import Database
from mdekit.emulator.entra.signprocs import SignerProcesses

__all__ = ["InvalidToken", "TokenSigner", "b64url"]

#: Signature-verified tokens remembered (claims only; the time checks still run every call).
_VERIFIED_CACHE = 4096
# Immutable and reused: building them per call showed in the token service's profile.
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class InvalidToken(Exception):
    """A bearer token failed a check; ``reason`` is one of the ``REASONS`` below."""

    REASONS = ("malformed", "signature", "expired", "not_yet_valid", "issuer", "audience")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _new_key_and_cert() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


class TokenSigner:
    """Mints and verifies the emulator's RS256 access tokens."""

    def __init__(self, db: Database) -> None:
        stored = db.get_meta("signing_key")
        if stored is None:
            key_pem, cert_pem = _new_key_and_cert()
            db.set_meta("signing_key", {"key": key_pem, "cert": cert_pem})
        else:
            key_pem, cert_pem = stored["key"], stored["cert"]
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self._key = key
        self._key_pem = key_pem
        #: Signer processes a served emulator signs in (issue 19); ``None``: threads or in place.
        self.processes: SignerProcesses | None = None
        self.public_key = key.public_key()
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        der = cert.public_bytes(serialization.Encoding.DER)
        self.kid = b64url(hashlib.sha1(der).digest())
        self._x5c = base64.b64encode(der).decode()
        self._verified: dict[str, dict[str, Any]] = {}
        self._verified_lock = threading.Lock()
        # The header is the same for every token: encode it once, in Entra's order.
        header = {"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        self._header_b64 = b64url(orjson.dumps(header)).encode()

    def mint(self, claims: dict[str, Any]) -> str:
        """Sign *claims* as a v1-style JWT (header ``typ``, ``alg``, ``x5t``, ``kid``).

        Thread-safe; the RSA signature (most of the cost) releases the GIL. The token service signs
        off the event loop: in :attr:`processes` when a served emulator started them, else in threads.
        """
        signing_input = self.signing_input(claims)
        return self.token(signing_input, self.sign(signing_input))

    def signing_input(self, claims: dict[str, Any]) -> bytes:
        """``header.payload`` of the token for *claims* (base64url), the bytes the signature covers."""
        return self._header_b64 + b"." + base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=")

    def sign(self, signing_input: bytes) -> bytes:
        """The raw RS256 signature of *signing_input* (thread-safe; releases the GIL)."""
        return self._key.sign(signing_input, _PKCS1, _SHA256)

    @staticmethod
    def token(signing_input: bytes, signature: bytes) -> str:
        """The compact JWT: *signing_input* ``.`` base64url(*signature*)."""
        return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()

    def start_processes(self, count: int) -> SignerProcesses | None:
        """Sign in *count* signer processes from now on (started on the first token; 0: none)."""
        if self.processes is None and count > 0:
            self.processes = SignerProcesses(self._key_pem, count)
        return self.processes

    def stop_processes(self) -> None:
        """Stop the signer processes, if any; tokens are signed in threads again."""
        processes, self.processes = self.processes, None
        if processes is not None:
            processes.close()

    def jwks(self, issuer: str | None = None) -> dict[str, Any]:
        """The JWKS document; v2 key sets carry an ``issuer`` (templated for ``common``)."""
        numbers = self.public_key.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        key: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url(n),
            "e": b64url(e),
            "x5c": [self._x5c],
        }
        if issuer:
            key["issuer"] = issuer
        return {"keys": [key]}

    def verify(self, token: str, *, now: float, audiences: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Check signature, ``nbf``/``exp`` against *now* and (optionally) ``aud``; return the claims.

        Raises :class:`InvalidToken` with the failing check as ``reason``. Only RS256 with this
        signer's ``kid`` is accepted: ``alg: none``, HS256 and foreign keys fail as ``signature``.
        The signature is checked once per distinct token (tokens are reused for an hour); the time
        and audience checks run on every call.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._check_signature(token)
            with self._verified_lock:
                if len(self._verified) >= _VERIFIED_CACHE:
                    self._verified.pop(next(iter(self._verified)))
                self._verified[token] = claims
        _check_times(claims, now)
        if audiences is not None:
            aud = str(claims.get("aud", "")).rstrip("/").lower()
            if aud not in {a.rstrip("/").lower() for a in audiences}:
                raise InvalidToken("audience", f"audience {claims.get('aud')!r} not accepted")
        return dict(claims)

    def _check_signature(self, token: str) -> dict[str, Any]:
        # One parse with the cached key: PyJWT's decode parses the token twice and re-validates
        # options on every call, which dominated the API's per-request cost.
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("malformed", "not a JWS compact serialization")
        try:
            # orjson: a hostile token nesting 10,000 levels is a ValueError, not a RecursionError
            header = orjson.loads(_b64decode(parts[0]))
            payload = orjson.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
        except (ValueError, TypeError) as exc:
            raise InvalidToken("malformed", str(exc)) from None
        if not isinstance(header, dict) or not isinstance(payload, dict):
            raise InvalidToken("malformed", "header and payload must be JSON objects")
        if header.get("alg") != "RS256" or header.get("kid") != self.kid:
            raise InvalidToken("signature", "unknown key or algorithm")
        try:
            self.public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), _PKCS1, _SHA256)
        except InvalidSignature:
            raise InvalidToken("signature", "signature verification failed") from None
        return payload


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _check_times(claims: dict[str, Any], now: float) -> None:
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or now >= exp:
        raise InvalidToken("expired", "token has expired")
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and now < nbf:
        raise InvalidToken("not_yet_valid", "token is not valid yet")
