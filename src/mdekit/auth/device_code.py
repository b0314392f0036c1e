"""A person signs in from a terminal: the device code flow (RFC 8628 as Entra serves it).

Used by ``mde setup``, where an administrator signs in once to register the app through Microsoft
Graph. The token client's conventions apply (:mod:`mdekit.auth.credentials`): httpx with one
``verify`` policy, a caller's transport used and never closed, every failure an
:class:`~mdekit.errors.AuthenticationError` with Entra's codes and a plain-words hint, nothing
secret in a message or a ``repr``. MSAL's ``PublicClientApplication`` would do the same job, but
it brings its own requests session (which ``REQUESTS_CA_BUNDLE`` overrides), instance discovery to
switch off, and real sleeps a test cannot skip; the protocol is two POSTs.

Polling follows the device-code page [ED:v2-oauth2-device-code] and RFC 8628 §3.5: wait
``interval`` seconds before each poll, keep going on ``authorization_pending``, add 5 s on
``slow_down``, stop on ``authorization_declined``, ``expired_token``, ``bad_verification_code`` or
any other error, and give up when ``expires_in`` has passed::

    token = sign_in_with_device_code("organizations", GRAPH_CLI, ["https://graph.microsoft.com/Application.ReadWrite.All"],
                                     prompt=lambda p: print(p.message))
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mdekit.auth.credentials import http_session, parse_token_response, token_error
from mdekit.clouds import get_cloud
from mdekit.errors import AuthenticationError, ConfigurationError, TransportError, register_secret

__all__ = [
    "DEVICE_GRANT",
    "GRAPH_COMMAND_LINE_TOOLS",
    "DevicePrompt",
    "UserToken",
    "sign_in_with_device_code",
    "start_device_flow",
]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Microsoft's public client for Graph scripts ("Microsoft Graph Command Line Tools").
GRAPH_COMMAND_LINE_TOOLS = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
_KEEP_POLLING = ("authorization_pending", "slow_down")

#: What each way a device sign-in ends means, in plain words.
_ENDINGS = {
    "authorization_declined": "the sign-in was cancelled in the browser: run the command again to retry",
    "expired_token": "the code expired before the sign-in was finished: run the command again "
    "and finish the sign-in within the time shown",
    "code_expired": "the code expired before the sign-in was finished: run the command again",
    "bad_verification_code": "the sign-in service does not know this code any more: run the command again",
}


@dataclass(frozen=True)
class DevicePrompt:
    """What to show the person: where to go, the code to enter, and the service's own message."""

    user_code: str
    verification_uri: str
    message: str
    expires_in: int
    interval: int
    device_code: str = field(repr=False)


@dataclass(frozen=True)
class UserToken:
    """A signed-in user's access token and what it says (claims read without verification)."""

    access_token: str = field(repr=False)
    expires_on: int
    claims: dict[str, Any] = field(repr=False)

    @property
    def tenant_id(self) -> str:
        """The tenant the user signed in to (``tid``)."""
        return str(self.claims.get("tid", ""))

    @property
    def user(self) -> str:
        """The user's sign-in name (``upn``, else ``unique_name``)."""
        return str(self.claims.get("upn") or self.claims.get("unique_name") or "")

    @property
    def scopes(self) -> tuple[str, ...]:
        """The delegated permissions granted (``scp``)."""
        return tuple(str(self.claims.get("scp", "")).split())

    @property
    def role_ids(self) -> tuple[str, ...]:
        """The user's directory role template ids (``wids``), when the token lists them."""
        wids = self.claims.get("wids")
        return tuple(str(w) for w in wids) if isinstance(wids, list) else ()


def _authority(authority: str | None, cloud: str) -> str:
    return (authority or get_cloud(cloud).authority).rstrip("/")


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AuthenticationError(
            f"the sign-in service answered {response.status_code} without a JSON body",
            status=response.status_code,
        )
    return body


def start_device_flow(
    tenant: str,
    client_id: str,
    scopes: Iterable[str],
    *,
    authority: str | None = None,
    cloud: str = "commercial",
    verify: Any = True,
    transport: Any = None,
    timeout: float = 30.0,
) -> DevicePrompt:
    """Ask for a device code (``POST /{tenant}/oauth2/v2.0/devicecode``)."""
    import httpx

    url = f"{_authority(authority, cloud)}/{tenant}/oauth2/v2.0/devicecode"
    form = {"client_id": client_id, "scope": " ".join(scopes)}
    with http_session(verify=verify, transport=transport, timeout=timeout) as client:
        try:
            response = client.post(url, data=form, headers={"Accept": "application/json"})
        except (httpx.HTTPError, OSError) as exc:
            raise TransportError(
                f"cannot reach the sign-in service at {url.rsplit('/', 4)[0]}: {exc}"
            ) from None
    body = _json(response)
    if response.status_code >= 400 or "error" in body:
        parse_token_response(response.status_code, response.content)  # raises the explained error
    try:
        prompt = DevicePrompt(
            str(body["user_code"]),
            str(body.get("verification_uri") or body.get("verification_url")),
            str(body.get("message") or ""),
            int(body.get("expires_in", 900)),
            max(1, int(body.get("interval", 5))),
            str(body["device_code"]),
        )
    except (KeyError, TypeError, ValueError):
        raise AuthenticationError("the device code answer lacks user_code/device_code") from None
    register_secret(prompt.device_code)
    return prompt


def _poll_once(client: Any, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any], bytes]:
    import httpx

    try:
        response = client.post(url, data=form, headers={"Accept": "application/json"})
    except (httpx.HTTPError, OSError) as exc:
        raise TransportError(f"cannot reach the sign-in service: {exc}") from None
    return response.status_code, _json(response), response.content


def _ended(status: int, body: dict[str, Any], content: bytes) -> AuthenticationError:
    """The error that ends polling: device-flow endings explained here, others by the AADSTS table."""
    error = str(body.get("error"))
    hint = _ENDINGS.get(error)
    if hint is None:  # consent refused, unknown client, ...
        try:
            parse_token_response(status, content)
        except AuthenticationError as exc:
            return exc
    first = str(body.get("error_description") or error).splitlines()[0]
    codes = tuple(int(c) for c in body.get("error_codes") or () if str(c).isdigit())
    return token_error(
        f"sign-in did not complete ({error}): {first}", hint=hint, error=error, codes=codes, status=status
    )


def sign_in_with_device_code(
    tenant: str,
    client_id: str,
    scopes: Iterable[str],
    *,
    prompt: Callable[[DevicePrompt], None],
    authority: str | None = None,
    cloud: str = "commercial",
    verify: Any = True,
    transport: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = 30.0,
) -> UserToken:
    """Start a device-code sign-in, show *prompt*, poll until the person finishes; the user's token.

    *sleep* and *clock* are injectable so tests need not wait in real time.
    """
    from mdekit.auth.inspect import decode

    scopes = list(scopes)
    if not scopes:
        raise ConfigurationError("a device-code sign-in needs at least one scope")
    flow = start_device_flow(
        tenant, client_id, scopes, authority=authority, cloud=cloud, verify=verify, transport=transport,
        timeout=timeout,
    )  # fmt: skip
    prompt(flow)
    url = f"{_authority(authority, cloud)}/{tenant}/oauth2/v2.0/token"
    form = {"client_id": client_id, "grant_type": DEVICE_GRANT, "device_code": flow.device_code}
    deadline, interval = clock() + flow.expires_in, flow.interval
    with http_session(verify=verify, transport=transport, timeout=timeout) as client:
        while True:
            if clock() + interval > deadline:
                raise token_error(
                    "sign-in did not complete in time", hint=_ENDINGS["expired_token"], error="expired_token"
                )
            sleep(interval)
            status, body, content = _poll_once(client, url, form)
            if status < 400 and "error" not in body:
                break
            if body.get("error") not in _KEEP_POLLING:
                raise _ended(status, body, content)
            if body.get("error") == "slow_down":
                interval += 5
    token = parse_token_response(status, content)
    _, claims = decode(token.access_token)
    return UserToken(token.access_token, token.expires_on, claims)
