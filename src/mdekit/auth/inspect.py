"""Offline token inspection and verification: what ``jwt.ms`` shows, without pasting a token anywhere.

* :func:`decode` -> ``(header, claims)`` without checking anything;
* :func:`describe` -> a report with human-readable times (UTC and relative), roles and a summary;
* :func:`verify` -> checks the RS256 signature against the issuer's JWKS (fetched over HTTPS,
  with a CA option for the emulator), then ``iss``, ``aud``, ``exp``/``nbf`` and required roles.

Failures raise :class:`~mdekit.errors.TokenValidationError` whose ``reason`` names the check:
``malformed``, ``jwks`` (keys could not be fetched), ``key_not_found``, ``signature``, ``expired``,
``not_yet_valid``, ``issuer``, ``audience`` or ``roles``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mdekit.errors import TokenValidationError

__all__ = ["REASONS", "decode", "describe", "fetch_jwks", "jwks_url_for", "verify"]

REASONS = ("malformed", "jwks", "key_not_found", "signature", "expired", "not_yet_valid", "issuer",
           "audience", "roles")  # fmt: skip
_TIME_CLAIMS = ("iat", "nbf", "exp")


def _segment(text: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's header and claims, unverified. Raises ``TokenValidationError("malformed")``."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TokenValidationError("not a JWT: expected three dot-separated parts", reason="malformed")
    try:
        return _segment(parts[0]), _segment(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenValidationError(
            "not a JWT: header or claims are not base64url JSON", reason="malformed"
        ) from None


def _relative(seconds: float) -> str:
    span = abs(int(seconds))
    text = f"{span // 3600} h {span % 3600 // 60} min" if span >= 3600 else f"{span // 60} min {span % 60} s"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def describe(token: str, *, now: float | None = None) -> dict[str, Any]:
    """A report: header, claims, times (epoch, UTC, relative), roles, expired flag and a summary."""
    header, claims = decode(token)
    now = time.time() if now is None else now
    times = {}
    for name in _TIME_CLAIMS:
        value = claims.get(name)
        if isinstance(value, int | float):
            utc = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            times[name] = {"epoch": value, "utc": utc, "relative": _relative(value - now)}
    exp = claims.get("exp")
    roles = claims.get("roles") or []
    return {
        "header": header,
        "claims": claims,
        "times": times,
        "roles": sorted(str(r) for r in roles) if isinstance(roles, list) else [],
        "expired": isinstance(exp, int | float) and now >= exp,
        "summary": {
            "version": claims.get("ver"),
            "audience": claims.get("aud"),
            "issuer": claims.get("iss"),
            "tenant": claims.get("tid"),
            "app": claims.get("appid") or claims.get("azp"),
            "appDisplayName": claims.get("app_displayname"),
            "credential": {"0": "public client", "1": "client secret", "2": "certificate"}.get(
                str(claims.get("appidacr") or claims.get("azpacr")), "unknown"
            ),
            "tokenType": "app-only" if claims.get("idtyp") == "app" or "scp" not in claims else "delegated",
        },
    }


def jwks_url_for(claims: dict[str, Any], authority: str | None = None) -> str:
    """Where the issuer publishes its keys: v1 ``/common/discovery/keys``, v2 ``/{tid}/discovery/v2.0/keys``.

    *authority* (``https://host[:port]``) replaces the login host, e.g. for the emulator.
    """
    tid = claims.get("tid") or "common"
    if claims.get("ver") == "2.0":
        base = (
            authority or str(claims.get("iss", "")).rsplit("/", 2)[0] or "https://login.microsoftonline.com"
        )
        return f"{base.rstrip('/')}/{tid}/discovery/v2.0/keys"
    return f"{(authority or 'https://login.microsoftonline.com').rstrip('/')}/common/discovery/keys"


def fetch_jwks(
    url: str, *, verify: Any = True, transport: Any = None, timeout: float = 30.0
) -> dict[str, Any]:
    """GET a JWKS over HTTPS; ``TokenValidationError("jwks")`` if it cannot be fetched."""
    import httpx

    from mdekit.auth.credentials import http_session

    if not url.startswith("https://"):
        raise TokenValidationError(
            f"refusing to fetch signing keys over a non-HTTPS URL: {url}", reason="jwks"
        )
    try:
        with http_session(verify=verify, transport=transport, timeout=timeout) as client:
            response = client.get(url)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TokenValidationError(f"cannot fetch signing keys from {url}: {exc}", reason="jwks") from None
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise TokenValidationError(f"{url} answered {response.status_code} without a key set", reason="jwks")
    return body


def _check_signature(token: str, header: dict[str, Any], jwks: dict[str, Any]) -> None:
    import jwt

    kid = header.get("kid") or header.get("x5t")
    if header.get("alg") != "RS256":
        raise TokenValidationError(f"unexpected algorithm {header.get('alg')!r} (Entra signs with RS256)",
                                   reason="signature")  # fmt: skip
    match = next((k for k in jwks.get("keys", []) if k.get("kid") == kid or k.get("x5t") == kid), None)
    if match is None:
        raise TokenValidationError(
            f"no signing key with kid {kid!r} in the issuer's key set", reason="key_not_found"
        )
    try:
        key = jwt.PyJWK(match, algorithm="RS256").key
        jwt.decode(token, key, algorithms=["RS256"], options={"verify_exp": False, "verify_nbf": False,
                   "verify_iat": False, "verify_aud": False, "verify_iss": False})  # fmt: skip
    except jwt.InvalidSignatureError:
        raise TokenValidationError(
            "the signature does not match the issuer's key", reason="signature"
        ) from None
    except jwt.PyJWTError as exc:
        raise TokenValidationError(f"the token could not be verified: {exc}", reason="signature") from None


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    return {i.rstrip("/").lower() for i in items}


def _check_claims(claims: dict[str, Any], audience: Any, issuer: Any, now: float, leeway: float) -> None:
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or now > exp + leeway:
        ago = _relative(exp - now) if isinstance(exp, int | float) else "(no exp claim)"
        raise TokenValidationError(f"the token has expired: exp was {ago}", reason="expired")
    if isinstance(nbf, int | float) and now < nbf - leeway:
        raise TokenValidationError(
            f"the token is not valid yet: nbf is {_relative(nbf - now)}", reason="not_yet_valid"
        )
    issuers = _as_set(issuer)
    if issuers is not None and str(claims.get("iss", "")).rstrip("/").lower() not in issuers:
        raise TokenValidationError(f"unexpected issuer {claims.get('iss')!r}", reason="issuer")
    audiences = _as_set(audience)
    if audiences is not None and str(claims.get("aud", "")).rstrip("/").lower() not in audiences:
        raise TokenValidationError(
            f"the token is for {claims.get('aud')!r}, not {', '.join(sorted(audiences))}", reason="audience"
        )


def verify(
    token: str,
    *,
    jwks_url: str | None = None,
    jwks: dict[str, Any] | None = None,
    authority: str | None = None,
    verify: Any = True,
    transport: Any = None,
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    required_roles: Iterable[str] = (),
    now: float | None = None,
    leeway: float = 60.0,
) -> dict[str, Any]:
    """Verify *token* and return its claims; raise ``TokenValidationError(reason=...)`` otherwise.

    Keys come from *jwks* if given, else from *jwks_url*, else from :func:`jwks_url_for` (with
    *authority* replacing the login host). *verify* is httpx's (``True``, a CA file path, or an
    ``ssl.SSLContext``). *issuer* defaults to ``https://sts.windows.net/{tid}/`` for v1 tokens.
    Every role in *required_roles* must be in the ``roles`` claim.
    """
    header, claims = decode(token)
    keys = jwks or fetch_jwks(jwks_url or jwks_url_for(claims, authority), verify=verify, transport=transport)
    _check_signature(token, header, keys)
    if issuer is None and claims.get("ver") == "1.0" and claims.get("tid"):
        issuer = f"https://sts.windows.net/{claims['tid']}/"
    _check_claims(claims, audience, issuer, time.time() if now is None else now, leeway)
    granted = set(claims.get("roles") or [])
    missing = sorted(set(required_roles) - granted)
    if missing:
        raise TokenValidationError(
            f"missing application role(s): {', '.join(missing)} "
            f"(token has: {', '.join(sorted(granted)) or 'none'})",
            reason="roles",
        )
    return claims
