"""``Defender`` and ``AsyncDefender``: the clients users import.

::

    from mdekit import Defender

    with Defender.from_secret(tenant_id, client_id, secret) as mde:
        for alert in mde.alerts.list(since=timedelta(days=1), severity="High"):
            print(alert.id, alert.title)
        mde.actions.isolate(machine_id, "contained by automation").wait(timeout=600)
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import httpx

from mdekit.client.actions import Actions, AsyncActions
from mdekit.client.alerts import Alerts, AsyncAlerts
from mdekit.client.core import Call
from mdekit.client.entities import AsyncDomains, AsyncFiles, AsyncIps, AsyncUsers, Domains, Files, Ips, Users
from mdekit.client.flow import Options, call_flow
from mdekit.client.hunting import AsyncHunting, Hunting
from mdekit.client.indicators import AsyncIndicators, Indicators
from mdekit.client.investigations import AsyncInvestigations, Investigations
from mdekit.client.live import AsyncLibrary, AsyncLiveResponse, Library, LiveResponse
from mdekit.client.machines import AsyncMachines, Machines
from mdekit.client.ratelimit import RateLimiter
from mdekit.client.retry import RetryPolicy
from mdekit.client.tokens import AsyncTokenProvider, TokenProvider
from mdekit.client.transport import AsyncEngine, SyncEngine, user_agent
from mdekit.clouds import get_cloud
from mdekit.errors import ConfigurationError
from mdekit.models import MachineAction

__all__ = ["AsyncDefender", "Defender"]

T = TypeVar("T")


@dataclass(frozen=True)
class _Settings:
    base_url: str
    scope: str
    authority: str
    opts: Options
    limiter: RateLimiter | None
    clock: Callable[[], float]


def _settings(
    *,
    cloud: str,
    region: str | None,
    base_url: str | None,
    authority: str | None,
    scope: str | None,
    retry: RetryPolicy | None,
    rate_limit: bool | RateLimiter | None,
    preflight: bool,
    reuse_pending: bool,
    clock: Callable[[], float] | None,
) -> _Settings:
    c = get_cloud(cloud, region)
    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"base_url must be an http(s) URL, not {base_url!r}")
    clk = clock or time.time
    if isinstance(rate_limit, RateLimiter):
        limiter: RateLimiter | None = rate_limit
    else:
        limiter = RateLimiter(clk if clock else time.monotonic) if rate_limit else None
    opts = Options(retry or RetryPolicy(), preflight=preflight, reuse_pending=reuse_pending)
    return _Settings(
        (base_url or c.api_base).rstrip("/"),
        scope or c.scope,
        (authority or c.authority).rstrip("/"),
        opts,
        limiter,
        clk,
    )


class _Common:
    """What both clients share: settings and the ``from_*`` constructors."""

    _settings: _Settings

    def __init__(self, credential: Any, **kwargs: Any) -> None:  # the subclasses take the full keywords
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """The API base URL (without ``/api``)."""
        return self._settings.base_url

    @property
    def scope(self) -> str:
        """The token scope requested (``<resource>/.default``)."""
        return self._settings.scope

    @property
    def _opts(self) -> Options:
        return self._settings.opts

    @property
    def limiter(self) -> RateLimiter | None:
        """The client-side rate limiter (``None`` when disabled)."""
        return self._settings.limiter

    def clock(self) -> float:
        """The client's clock (epoch seconds; injectable for tests)."""
        return self._settings.clock()

    @classmethod
    def from_secret(cls, tenant_id: str, client_id: str, secret: str, **kwargs: Any) -> Self:
        """A client using a client secret (``authority=``/``verify=`` reach the token request too;
        ``token_transport=`` is an httpx transport for token requests, which stays yours)."""
        from mdekit.auth.credentials import ClientSecretCredential

        cred = ClientSecretCredential(tenant_id, client_id, secret, **_cred_kwargs(kwargs))
        return cls(cred, **kwargs)

    @classmethod
    def from_certificate(
        cls, tenant_id: str, client_id: str, certificate: Any, *, password: bytes | None = None, **kwargs: Any
    ) -> Self:
        """A client using a certificate (PEM or PFX path, or PEM bytes, with key and certificate)."""
        from mdekit.auth.credentials import CertificateCredential

        cred = CertificateCredential(
            tenant_id, client_id, certificate, password=password, **_cred_kwargs(kwargs)
        )
        return cls(cred, **kwargs)

    @classmethod
    def from_environment(cls, **kwargs: Any) -> Self:
        """A client from ``AZURE_TENANT_ID``/``AZURE_CLIENT_ID`` + ``AZURE_CLIENT_SECRET`` or
        ``AZURE_CLIENT_CERTIFICATE_PATH``; ``MDEKIT_BASE_URL``, ``MDEKIT_AUTHORITY``, ``MDEKIT_CA_BUNDLE``,
        ``MDEKIT_CLOUD`` and ``MDEKIT_REGION`` apply as for ``mde`` (arguments win)."""
        from mdekit.auth.credentials import credential_from_environment

        kwargs = {**_env_settings(_TARGET_ENV | _CLOUD_ENV), **kwargs}
        return cls(credential_from_environment(**_cred_kwargs(kwargs)), **kwargs)

    @classmethod
    def from_managed_identity(cls, client_id: str | None = None, **kwargs: Any) -> Self:
        """A client using an Azure managed identity (system-assigned, or user-assigned by *client_id*)."""
        from mdekit.auth.credentials import managed_identity_credential, ssl_verify

        kwargs["verify"] = ssl_verify(kwargs.get("verify", True))  # a CA file path, as elsewhere
        return cls(managed_identity_credential(client_id), **kwargs)

    @classmethod
    def from_profile(cls, profile: Any = None, **kwargs: Any) -> Self:
        """A client from an ``mde profile``: by name, a :class:`mdekit.profiles.Profile`, or the
        default profile; with neither a name nor a default profile, from the environment.

        The secret is read from where the profile says (environment variable, OS keyring or its
        0600 file). Arguments win; then ``MDEKIT_BASE_URL``/``MDEKIT_AUTHORITY``/``MDEKIT_CA_BUNDLE``
        (as ``mde --profile`` reads them); then the profile's settings. A ``Profile`` object is used
        as given (the caller already resolved it).
        """
        from mdekit import profiles

        prof = profiles.resolve(profile)
        if prof is None:
            return cls.from_environment(**kwargs)
        env = {} if isinstance(profile, profiles.Profile) else _env_settings(_TARGET_ENV)
        settings = {**profiles.client_settings(prof), **env, **kwargs}
        if prof.credential == "certificate":
            return cls.from_certificate(prof.tenant, prof.client_id, prof.certificate_path, **settings)
        if prof.credential == "managed-identity":
            return cls.from_managed_identity(client_id=prof.client_id, **settings)
        return cls.from_secret(prof.tenant, prof.client_id, profiles.read_secret(prof) or "", **settings)


#: MDEKIT_* variables that point a client elsewhere, e.g. at the emulator (``mde`` reads them too).
_TARGET_ENV = {"MDEKIT_BASE_URL": "base_url", "MDEKIT_AUTHORITY": "authority", "MDEKIT_CA_BUNDLE": "verify"}
#: ...and, without a profile, the cloud and region (as ``mde`` does without a profile).
_CLOUD_ENV = {"MDEKIT_CLOUD": "cloud", "MDEKIT_REGION": "region"}


def _env_settings(names: dict[str, str]) -> dict[str, Any]:
    return {key: os.environ[var] for var, key in names.items() if os.environ.get(var)}


def _cred_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The credential's keywords, taken from the client's *kwargs* (which are adjusted in place).

    Cloud, authority and TLS trust reach the token request too, with one ``SSLContext`` for both
    (a CA file is loaded once). Token requests use ``token_transport`` (popped: the client does not
    take it) or their own short-lived connection, never the API ``transport``; whoever passes a
    transport in keeps owning it.
    """
    from mdekit.auth.credentials import ssl_verify

    kwargs["verify"] = ssl_verify(kwargs.get("verify", True))
    out = {
        "cloud": kwargs.get("cloud", "commercial"),
        "verify": kwargs["verify"],
        "transport": kwargs.pop("token_transport", None),
    }
    if kwargs.get("authority"):
        out["authority"] = kwargs["authority"]
    return out


class Defender(_Common):
    """Synchronous Defender for Endpoint client (thread-safe; share one per tenant).

    *credential* is anything with ``get_token(*scopes)`` (mdekit's or azure-identity's credentials).
    ``cloud``/``region`` pick API host and scope; ``base_url``/``authority`` point elsewhere (the
    emulator). ``transport`` is an httpx transport (e.g. :class:`~mdekit.client.transport.AsgiTransport`).
    ``retry`` is a :class:`RetryPolicy`; ``rate_limit`` ``True``/``False`` or a :class:`RateLimiter`;
    ``preflight`` checks token roles before sending; ``reuse_pending`` returns an already pending
    machine action for a duplicate request. ``clock``/``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        credential: Any,
        *,
        cloud: str = "commercial",
        region: str | None = None,
        base_url: str | None = None,
        authority: str | None = None,
        scope: str | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: Any = True,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        rate_limit: bool | RateLimiter | None = True,
        preflight: bool = True,
        reuse_pending: bool = True,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Any] | None = None,
        token_skew: float = 300.0,
    ) -> None:
        if credential is None or not hasattr(credential, "get_token"):
            raise ConfigurationError(
                "credential must have get_token(*scopes) (e.g. Defender.from_secret(...))"
            )
        self._settings = _settings(
            cloud=cloud,
            region=region,
            base_url=base_url,
            authority=authority,
            scope=scope,
            retry=retry,
            rate_limit=rate_limit,
            preflight=preflight,
            reuse_pending=reuse_pending,
            clock=clock,
        )
        self.sleep: Callable[[float], Any] = sleep or time.sleep
        self.tokens = TokenProvider(credential, self.scope, clock=self._settings.clock, skew=token_skew)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            verify=verify,
            timeout=timeout,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
        )
        self._engine = SyncEngine(self._http, self.tokens, self.limiter, self.sleep)
        self.alerts = Alerts(self)
        self.machines = Machines(self)
        self.actions = Actions(self)
        self.indicators = Indicators(self)
        self.investigations = Investigations(self)
        self.files = Files(self)
        self.ips = Ips(self)
        self.domains = Domains(self)
        self.users = Users(self)
        self.hunting = Hunting(self)
        self.live_response = LiveResponse(self)
        self.library = Library(self)

    def execute(self, call: Call[T]) -> T:
        """Run one :class:`~mdekit.client.core.Call` (token, pre-flight, limits, retries) and parse it."""
        return self._bind(self._engine.run(call_flow(call, self._opts)))

    def _bind(self, result: Any) -> Any:
        # machine actions get a reference back to this client so action.wait() works
        for item in result if isinstance(result, list) else (result,):
            if isinstance(item, MachineAction):
                item._client = self
        return result

    @property
    def token_requests(self) -> int:
        """How many tokens this client asked its credential for."""
        return self.tokens.requests

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> Defender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncDefender(_Common):
    """The asyncio twin of :class:`Defender` (same arguments; ``transport`` is an async httpx transport).

    Families mirror the sync client: ``await client.alerts.get(id)``, ``async for a in client.alerts.list()``,
    ``await client.actions.wait(action)``. One process can serve many tenants with one client each.
    """

    def __init__(
        self,
        credential: Any,
        *,
        cloud: str = "commercial",
        region: str | None = None,
        base_url: str | None = None,
        authority: str | None = None,
        scope: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        rate_limit: bool | RateLimiter | None = True,
        preflight: bool = True,
        reuse_pending: bool = True,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Any] | None = None,
        token_skew: float = 300.0,
    ) -> None:
        if credential is None or not hasattr(credential, "get_token"):
            raise ConfigurationError("credential must have get_token(*scopes)")
        self._settings = _settings(
            cloud=cloud,
            region=region,
            base_url=base_url,
            authority=authority,
            scope=scope,
            retry=retry,
            rate_limit=rate_limit,
            preflight=preflight,
            reuse_pending=reuse_pending,
            clock=clock,
        )
        self.sleep: Callable[[float], Any] = sleep or asyncio.sleep
        self.tokens = AsyncTokenProvider(credential, self.scope, clock=self._settings.clock, skew=token_skew)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            verify=verify,
            timeout=timeout,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
        )
        self._engine = AsyncEngine(self._http, self.tokens, self.limiter, self.sleep)
        self.alerts = AsyncAlerts(self)
        self.machines = AsyncMachines(self)
        self.actions = AsyncActions(self)
        self.indicators = AsyncIndicators(self)
        self.investigations = AsyncInvestigations(self)
        self.files = AsyncFiles(self)
        self.ips = AsyncIps(self)
        self.domains = AsyncDomains(self)
        self.users = AsyncUsers(self)
        self.hunting = AsyncHunting(self)
        self.live_response = AsyncLiveResponse(self)
        self.library = AsyncLibrary(self)

    async def execute(self, call: Call[T]) -> T:
        """Run one call (as :meth:`Defender.execute`)."""
        result: T = await self._engine.run(call_flow(call, self._opts))
        return result

    async def asleep(self, seconds: float) -> None:
        """Sleep with the injected sleep (sync or async)."""
        await self._engine._sleep(seconds)

    @property
    def token_requests(self) -> int:
        """How many tokens this client asked its credential for."""
        return self.tokens.requests

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncDefender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
