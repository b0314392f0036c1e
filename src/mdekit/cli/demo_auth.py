"""The token protocol as a user's own code speaks it, for ``mde demo`` steps 6, 7 and 10.

Step 6 shows the two raw client-credential requests (v1 ``resource=``, v2 ``scope=``) exactly as
a script would send them; step 7 verifies the token's RS256 signature against the tenant's JWKS
with PyJWT; step 10 builds the documented admin-consent link. Errors are mdekit errors carrying the
AADSTS codes and the plain-words hint of :mod:`mdekit.auth.credentials`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from mdekit.errors import AuthenticationError, TokenValidationError

__all__ = ["TokenReply", "consent_link", "decode_unverified", "request_token", "verify_signature"]


@dataclass(frozen=True)
class TokenReply:
    """A successful token response (the token itself is never printed in full)."""

    access_token: str
    expires_in: int
    body: dict[str, Any]

    def __repr__(self) -> str:
        return f"TokenReply(expires_in={self.expires_in})"


def request_token(
    authority: str, tenant: str, client_id: str, secret: str, *, resource: str, version: int, verify: Any
) -> TokenReply:
    """POST a client-credentials request to the v1 (``resource=``) or v2 (``scope=``) endpoint."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if version == 1:
        url = f"{authority}/{tenant}/oauth2/token"
        form["resource"] = resource
    else:
        url = f"{authority}/{tenant}/oauth2/v2.0/token"
        form["scope"] = f"{resource}/.default"
    reply = httpx.post(url, data=form, verify=verify, timeout=30)
    body = reply.json() if reply.content else {}
    if reply.status_code == 200 and body.get("access_token"):
        # v1 sends numbers as strings, v2 as integers: both are read the same way.
        return TokenReply(str(body["access_token"]), int(float(body.get("expires_in", 0))), body)
    raise _refused(reply.status_code, body)


def _refused(status: int, body: dict[str, Any]) -> AuthenticationError:
    from mdekit.auth.credentials import explain_aadsts

    first_line = (
        str(body.get("error_description") or "").splitlines()[0] if body.get("error_description") else ""
    )
    codes = tuple(int(c) for c in body.get("error_codes") or () if isinstance(c, int))
    return AuthenticationError(
        f"token refused: {body.get('error', 'error')}: {first_line}",
        error=body.get("error"),
        codes=codes,
        hint=explain_aadsts(first_line),
        status=status,
    )


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, without checking anything (what a JWT viewer shows)."""
    import jwt

    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def verify_signature(token: str, *, jwks_url: str, audience: str, verify: Any) -> dict[str, Any]:
    """Verify the RS256 signature with the key named by ``kid`` in the JWKS, plus ``aud``/``exp``.

    ``exp`` is checked against the emulator's clock by the emulator itself; here a generous
    leeway keeps a virtual clock ahead of the wall clock from failing the check.
    """
    import jwt

    header = jwt.get_unverified_header(token)
    keys = httpx.get(jwks_url, verify=verify, timeout=30).json().get("keys", [])
    match = next((k for k in keys if k.get("kid") == header.get("kid")), None)
    if match is None:
        raise TokenValidationError(f"no key {header.get('kid')!r} in {jwks_url}", reason="kid")
    key = jwt.PyJWK(match).key
    try:
        return dict(jwt.decode(token, key, algorithms=["RS256"], audience=audience, leeway=86400 * 365))
    except jwt.PyJWTError as exc:
        raise TokenValidationError(f"token does not verify: {exc}", reason="signature") from None


def consent_link(authority: str, client_id: str) -> str:
    """The admin-consent link Defender for Endpoint documents for partner (multi-tenant) apps."""
    query = urlencode(
        {"prompt": "consent", "client_id": client_id, "response_type": "code", "sso_reload": "true"}
    )
    return f"{authority}/common/oauth2/authorize?{query}"
