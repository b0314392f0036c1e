"""``Defender`` and ``AsyncDefender``: the clients users import.

::

    from mdekit import Defender

    with Defender.from_secret(tenant_id, client_id, secret) as mde:
        for alert in mde.alerts.list(since=timedelta(days=1), severity="High"):
            print(alert.id, alert.title)
        mde.actions.isolate(machine_id, "contained by automation").wait(timeout=600)

Both clients are one class, :class:`_Common`, with four parts swapped (HTTP client, engine, token
provider, default sleep). Families are declared once in it; see :mod:`mdekit.client.base` for
the seam they use (``execute``, ``paginate``, ``run``, ``options``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx

from mdekit.catalog import MDE
from mdekit.client.actions import Actions
from mdekit.client.alerts import Alerts
from mdekit.client.base import AsyncClient, AsyncPager, C, ListCall, Page, Pager, SyncClient
from mdekit.client.core import Call
from mdekit.client.downloads import AsyncFileRows, FileRows, FilesCall
from mdekit.client.entities import Domains, Files, Ips, Users
from mdekit.client.exports import Exports
from mdekit.client.flow import Flow, Options, call_flow
from mdekit.client.hunting import Hunting
from mdekit.client.incidents import Incidents
from mdekit.client.indicators import Indicators
from mdekit.client.investigations import Investigations
from mdekit.client.live import Library, LiveResponse
from mdekit.client.machines import Machines
from mdekit.client.ratelimit import RateLimiter
from mdekit.client.retry import RetryPolicy
from mdekit.client.routing import Route, Routes, TokenProviders, routes_for
from mdekit.client.tokens import AsyncTokenProvider, TokenProvider
from mdekit.client.transport import AsyncEngine, SyncEngine, borrowed, user_agent
from mdekit.client.tvm import Recommendations, Remediation, Scores, SoftwareFamily, Vulnerabilities
from mdekit.clouds import get_cloud
from mdekit.errors import ConfigurationError
from mdekit.models import MachineAction

__all__ = ["AsyncDefender", "Defender"]

T = TypeVar("T")
#: The httpx transport type a client takes (blocking or async).
X = TypeVar("X", httpx.BaseTransport, httpx.AsyncBaseTransport)


@dataclass(frozen=True)
class _Settings:
    routes: Routes
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
    clk = clock or time.time
    if isinstance(rate_limit, RateLimiter):
        limiter: RateLimiter | None = rate_limit
    else:
        limiter = RateLimiter(clk if clock else time.monotonic) if rate_limit else None
    opts = Options(retry or RetryPolicy(), preflight=preflight, reuse_pending=reuse_pending)
    routes = routes_for(c, base_url=base_url, scope=scope)
    return _Settings(routes, (authority or c.authority).rstrip("/"), opts, limiter, clk)


class _FamilySlot:
    """A family attribute of the client, made on first use."""

    def __init__(self, cls: type[Any]) -> None:
        self._cls = cls
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        made = client.__dict__[self._name] = self._cls(client)  # later look-ups find it directly
        return made


def _family(cls: type[Any]) -> Any:
    """Declare a family attribute (its annotation gives users the type)."""
    return _FamilySlot(cls)


class _Common(Generic[C, X]):
    """What both clients share: settings, routes, token providers per resource, the API families
    and the ``from_*`` constructors.

    *credential* is anything with ``get_token(*scopes)`` (mdekit's or azure-identity's credentials);
    it serves every resource (Defender, XDR, Graph) with one token per resource.
    ``cloud``/``region`` pick hosts and scopes; ``base_url``/``authority`` point elsewhere (the
    emulator). ``transport`` is an httpx transport (e.g. :class:`~mdekit.client.transport.AsgiTransport`;
    an async one for :class:`AsyncDefender`), which stays the caller's: ``close()`` leaves it open.
    ``retry`` is a :class:`RetryPolicy`; ``rate_limit`` ``True``/``False`` or a :class:`RateLimiter`;
    ``preflight`` checks token roles before sending;
    ``reuse_pending`` returns an already pending machine action for a duplicate request.
    ``clock``/``sleep`` are injectable for tests.
    """

    # The API families: one line each, for both clients.
    alerts: Alerts[C] = _family(Alerts)
    machines: Machines[C] = _family(Machines)
    actions: Actions[C] = _family(Actions)
    indicators: Indicators[C] = _family(Indicators)
    investigations: Investigations[C] = _family(Investigations)
    files: Files[C] = _family(Files)
    ips: Ips[C] = _family(Ips)
    domains: Domains[C] = _family(Domains)
    users: Users[C] = _family(Users)
    hunting: Hunting[C] = _family(Hunting)
    incidents: Incidents[C] = _family(Incidents)
    vulnerabilities: Vulnerabilities[C] = _family(Vulnerabilities)
    software: SoftwareFamily[C] = _family(SoftwareFamily)
    recommendations: Recommendations[C] = _family(Recommendations)
    remediation: Remediation[C] = _family(Remediation)
    scores: Scores[C] = _family(Scores)
    exports: Exports[C] = _family(Exports)
    live_response: LiveResponse[C] = _family(LiveResponse)
    library: Library[C] = _family(Library)

    # What the twins swap.
    _http_class: ClassVar[Callable[..., Any]]
    _engine_class: ClassVar[Callable[..., Any]]
    _token_class: ClassVar[Callable[..., Any]]
    _default_sleep: ClassVar[Callable[[float], Any]]

    def __init__(
        self,
        credential: Any,
        *,
        cloud: str = "commercial",
        region: str | None = None,
        base_url: str | None = None,
        authority: str | None = None,
        scope: str | None = None,
        transport: X | None = None,
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
        self.sleep: Callable[[float], Any] = sleep or type(self)._default_sleep
        clk = self._settings.clock

        def provider(scope: str) -> Any:
            return self._token_class(credential, scope, clock=clk, skew=token_skew)

        self._tokens = TokenProviders(self.routes, provider)
        #: The token provider of the Defender API (the client's own resource).
        self.tokens = self._tokens[MDE.name]
        self._http = self._http_class(
            transport=borrowed(transport),  # the caller's: close() leaves it open
            verify=verify,
            timeout=timeout,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
        )
        self._engine = self._engine_class(self._http, self.routes, self._tokens, self.limiter, self.sleep)
        self._owned_credential: Any = None  # a credential passed in stays the caller's

    def _owning(self, credential: Any) -> Self:
        """Mark *credential* as made by this client's constructor: closing the client closes it."""
        self._owned_credential = credential
        return self

    def _close_credential(self) -> None:
        cred, self._owned_credential = self._owned_credential, None
        close = getattr(cred, "close", None)
        if callable(close):
            close()

    @property
    def routes(self) -> Routes:
        """Where each catalogue resource (Defender, XDR, Graph) lives for this client."""
        return self._settings.routes

    def route(self, resource: str = MDE.name) -> Route:
        """Base URL and token scope of catalogue *resource* (default: the Defender API)."""
        return self.routes[resource]

    def token_provider(self, resource: str = MDE.name) -> Any:
        """The token provider of catalogue *resource* (one per resource, made on first use)."""
        return self._tokens[resource]

    @property
    def base_url(self) -> str:
        """The Defender API base URL (without ``/api``)."""
        return self.route().base_url

    @property
    def scope(self) -> str:
        """The Defender API token scope requested (``<resource>/.default``)."""
        return self.route().scope

    @property
    def options(self) -> Options:
        """The request-flow switches (retry policy, pre-flight, pending-action reuse) flows run with."""
        return self._settings.opts

    @property
    def limiter(self) -> RateLimiter | None:
        """The client-side rate limiter (``None`` when disabled)."""
        return self._settings.limiter

    def clock(self) -> float:
        """The client's clock (epoch seconds; injectable for tests)."""
        return self._settings.clock()

    @property
    def token_requests(self) -> int:
        """How many tokens this client asked its credential for (all resources)."""
        return sum(p.requests for p in self._tokens.made())

    @classmethod
    def from_secret(cls, tenant_id: str, client_id: str, secret: str, **kwargs: Any) -> Self:
        """A client using a client secret (``authority=``/``verify=`` reach the token request too;
        ``token_transport=`` is an httpx transport for token requests, which stays yours)."""
        from mdekit.auth.credentials import ClientSecretCredential

        cred = ClientSecretCredential(tenant_id, client_id, secret, **_cred_kwargs(kwargs))
        return cls(cred, **kwargs)._owning(cred)

    @classmethod
    def from_certificate(
        cls, tenant_id: str, client_id: str, certificate: Any, *, password: bytes | None = None, **kwargs: Any
    ) -> Self:
        """A client using a certificate (PEM or PFX path, or PEM bytes, with key and certificate)."""
        from mdekit.auth.credentials import CertificateCredential

        cred = CertificateCredential(
            tenant_id, client_id, certificate, password=password, **_cred_kwargs(kwargs)
        )
        return cls(cred, **kwargs)._owning(cred)

    @classmethod
    def from_environment(cls, **kwargs: Any) -> Self:
        """A client from ``AZURE_TENANT_ID``/``AZURE_CLIENT_ID`` + ``AZURE_CLIENT_SECRET`` or
        ``AZURE_CLIENT_CERTIFICATE_PATH``; ``MDEKIT_BASE_URL``, ``MDEKIT_AUTHORITY``, ``MDEKIT_CA_BUNDLE``,
        ``MDEKIT_CLOUD`` and ``MDEKIT_REGION`` apply as for ``mde`` (arguments win)."""
        from mdekit.auth.credentials import credential_from_environment

        kwargs = {**_env_settings(_TARGET_ENV | _CLOUD_ENV), **kwargs}
        cred = credential_from_environment(**_cred_kwargs(kwargs))
        return cls(cred, **kwargs)._owning(cred)

    @classmethod
    def from_managed_identity(cls, client_id: str | None = None, **kwargs: Any) -> Self:
        """A client using an Azure managed identity (system-assigned, or user-assigned by *client_id*)."""
        from mdekit.auth.credentials import managed_identity_credential, ssl_verify

        kwargs["verify"] = ssl_verify(kwargs.get("verify", True))  # a CA file path, as elsewhere
        cred = managed_identity_credential(client_id)
        return cls(cred, **kwargs)._owning(cred)

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


class Defender(_Common[SyncClient, httpx.BaseTransport]):
    """Synchronous Defender for Endpoint client (thread-safe; share one per tenant).

    Arguments as :class:`_Common`; ``transport`` is a blocking httpx transport.
    """

    _http_class = httpx.Client
    _engine_class = SyncEngine
    _token_class = TokenProvider
    _default_sleep = time.sleep
    _engine: SyncEngine
    _http: httpx.Client
    tokens: TokenProvider

    def run(self, flow: Flow[T]) -> T:
        """Run a request :mod:`~mdekit.client.flow` (what every family method does) to its result."""
        return self._bind(self._engine.run(flow))

    def execute(self, call: Call[T]) -> T:
        """Run one :class:`~mdekit.client.core.Call` (token, pre-flight, limits, retries) and parse it."""
        return self.run(call_flow(call, self.options))

    def paginate(self, call: ListCall[T]) -> Pager[T]:
        """A lazy :class:`~mdekit.client.base.Pager` over *call*."""
        return Pager(self, call)

    def download(self, call: FilesCall[T]) -> FileRows[T]:
        """The rows of the file export *call*, streamed (see :mod:`mdekit.client.downloads`)."""
        return FileRows(self.execute, self._engine.stream, call)

    def _bind(self, result: T) -> T:
        # machine actions get a reference back to this client so action.wait() works
        found: Any = result
        items = found.items if isinstance(found, Page) else found if isinstance(found, list) else (found,)
        for item in items:
            if isinstance(item, MachineAction):
                item._client = self
        return result

    def close(self) -> None:
        """Close the HTTP connections this client opened (a ``transport`` passed in stays open) and
        the credential a ``from_*`` constructor made (one passed in stays open)."""
        self._http.close()
        self._close_credential()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncDefender(_Common[AsyncClient, httpx.AsyncBaseTransport]):
    """The asyncio twin of :class:`Defender` (same arguments; ``transport`` is an async httpx transport).

    Families mirror the sync client: ``await client.alerts.get(id)``, ``async for a in client.alerts.list()``,
    ``await client.actions.wait(action)``. One process can serve many tenants with one client each.
    """

    _http_class = httpx.AsyncClient
    _engine_class = AsyncEngine
    _token_class = AsyncTokenProvider
    _default_sleep = asyncio.sleep
    _engine: AsyncEngine
    _http: httpx.AsyncClient
    tokens: AsyncTokenProvider

    async def run(self, flow: Flow[T]) -> T:
        """Run a request :mod:`~mdekit.client.flow` to its result."""
        return await self._engine.run(flow)

    async def execute(self, call: Call[T]) -> T:
        """Run one call (as :meth:`Defender.execute`)."""
        return await self.run(call_flow(call, self.options))

    def paginate(self, call: ListCall[T]) -> AsyncPager[T]:
        """A lazy :class:`~mdekit.client.base.AsyncPager` over *call*."""
        return AsyncPager(self, call)

    def download(self, call: FilesCall[T]) -> AsyncFileRows[T]:
        """As :meth:`Defender.download` (``async for``)."""
        return AsyncFileRows(self.execute, self._engine.stream, call)

    async def asleep(self, seconds: float) -> None:
        """Sleep with the injected sleep (sync or async)."""
        await self._engine.asleep(seconds)

    async def aclose(self) -> None:
        """As :meth:`Defender.close`."""
        await self._http.aclose()
        self._close_credential()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
