"""Entra ID's error responses: ``AADSTS`` codes, their ``error`` strings, HTTP status and text.

The wire shape is the real service's (service-facts.md §1.5)::

    {"error": "invalid_client",
     "error_description": "AADSTS7000215: Invalid client secret provided. ...\\r\\nTrace ID: ...\\r\\n"
                          "Correlation ID: ...\\r\\nTimestamp: 2026-01-01 10:00:00Z",
     "error_codes": [7000215], "timestamp": "2026-01-01 10:00:00Z", "trace_id": "...",
     "correlation_id": "...", "error_uri": "https://login.microsoftonline.com/error?code=7000215"}

with ``Cache-Control: no-store``. Messages never contain a secret: only ids the caller sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

__all__ = ["CODES", "EntraError", "error_body"]

#: code -> (error, HTTP status, message template). Templates use ``str.format`` fields.
CODES: dict[int, tuple[str, int, str]] = {
    7000215: (
        "invalid_client",
        401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client "
        "secret value, not the client secret ID, for a secret added to app '{app}'.",
    ),
    7000222: (
        "invalid_client",
        401,
        "The provided client secret keys for app '{app}' are expired. Visit the Azure portal to create "
        "new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate "
        "credentials for added security: https://aka.ms/certCreds.",
    ),
    700016: (
        "unauthorized_client",
        400,
        "Application with identifier '{app}' was not found in the directory '{tenant}'. This can happen "
        "if the application has not been installed by the administrator of the tenant or consented to by "
        "any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    ),
    90002: (
        "invalid_request",
        400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud. Check with your subscription administrator, this may happen if there "
        "are no active subscriptions for the tenant.",
    ),
    900023: (
        "invalid_request",
        400,
        "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
    ),
    70011: (
        "invalid_scope",
        400,
        "The provided request must include a 'scope' input parameter. The provided value for the input "
        "parameter 'scope' is not valid. The scope {scope} is not valid.",
    ),
    1002012: (
        "invalid_scope",
        400,
        "The provided value for scope {scope} is not valid. Client credential flows must have a scope "
        "value with /.default suffixed to the resource identifier (application ID URI).",
    ),
    500011: (
        "invalid_resource",
        400,
        "The resource principal named {resource} was not found in the tenant named {tenant}. This can "
        "happen if the application has not been installed by the administrator of the tenant or "
        "consented to by any user in the tenant. You might have sent your authentication request to the "
        "wrong tenant.",
    ),
    70003: ("unsupported_grant_type", 400, "The app requested an unsupported grant type '{grant}'."),
    900144: ("invalid_request", 400, "The request body must contain the following parameter: '{name}'."),
    7000218: (
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    700027: (
        "invalid_client",
        401,
        "Client assertion failed signature validation. [Reason - {reason}]",
    ),
    700024: ("invalid_client", 401, "Client assertion is not within its valid time range. {reason}"),
    700022: (
        "invalid_scope",
        400,
        "The provided value for the input parameter scope is not valid because it contains more than one "
        "resource. Scope {scope} is not valid.",
    ),
    901002: ("invalid_request", 400, "The 'resource' request parameter is not supported."),
    900561: ("invalid_request", 400, "The endpoint only accepts POST requests. Received a GET request."),
    9001023: (
        "invalid_request",
        400,
        "The grant type isn't supported over the /common or /consumers endpoints. Please use the "
        "/organizations or tenant-specific endpoint.",
    ),
    90014: ("invalid_request", 400, "The required field '{name}' is missing from the credential."),
    50011: (
        "invalid_request",
        400,
        "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured "
        "for the application '{app}'.",
    ),
    65004: ("access_denied", 400, "User declined to consent to access the app."),
    # Device code flow ([ED:v2-oauth2-device-code]; texts: service-facts-2 §5.2, the 70016 one from a
    # 2026 capture, the others from fixtures - UNVERIFIED word for word).
    70016: (
        "authorization_pending",
        400,
        "The provided request has not yet been authorized by the user. The user must input their code.",
    ),
    70018: (
        "bad_verification_code",
        400,
        "Invalid verification code: the device code was not recognized or belongs to another client.",
    ),
    70019: ("expired_token", 400, "Verification code expired."),
    70000: ("invalid_grant", 400, "The provided value for the input parameter '{name}' {problem}"),
    65001: (
        "invalid_grant",
        400,
        "The user or administrator has not consented to use the application with ID '{app}' named "
        "'{name}'. Send an interactive authorization request for this user and resource.",
    ),
    700025: (
        "invalid_client",
        401,
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    ),
}


class EntraError(Exception):
    """One AADSTS error; :meth:`body` renders the wire JSON (plus ``extra`` fields, e.g. ``suberror``)."""

    def __init__(self, code: int, **fields: str) -> None:
        error, status, template = CODES[code]
        self.code = code
        self.error = error
        self.status = status
        self.message = template.format_map(_Missing(fields))
        self.extra: dict[str, Any] = {}
        super().__init__(f"AADSTS{code}: {self.message}")

    def body(self, now: datetime) -> dict[str, Any]:
        """The JSON body, stamped with *now* (the virtual clock) and fresh trace/correlation ids."""
        return {**error_body(self.code, self.error, self.message, now), **self.extra}


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def error_body(code: int, error: str, message: str, now: datetime) -> dict[str, Any]:
    """Entra's error JSON for *code*."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    description = (
        f"AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {stamp}"
    )
    return {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
