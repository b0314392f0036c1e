"""Where each catalogue resource lives for one client: base URL and token scope (pure, no I/O).

Every operation in :mod:`mdekit.catalog` names its ``resource`` (WindowsDefenderATP, Microsoft
Threat Protection, Microsoft Graph). The client's cloud and region (:mod:`mdekit.clouds`) give each
resource its host and token audience; one credential serves them all, with one token per resource
(the app's roles on that resource). A custom ``base_url`` (the emulator, a proxy) receives every
resource's requests, while tokens keep the real audiences; a ``base_url`` that is itself a real
Defender API host (a region, say) moves only the Defender API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.clouds import Cloud, all_api_hosts
from mdekit.errors import ConfigurationError

__all__ = ["Route", "Routes", "TokenProviders", "routes_for"]

T = TypeVar("T")


@dataclass(frozen=True)
class Route:
    """One resource for one client: where its requests go and the scope its tokens are asked for."""

    resource: str
    base_url: str
    scope: str

    def url(self, path: str) -> str:
        """The absolute URL of *path* (``/api/alerts``) on this resource."""
        return self.base_url + path


@dataclass(frozen=True)
class Routes:
    """The routes of every resource in the catalogue, by resource name."""

    by_resource: Mapping[str, Route]

    def __getitem__(self, resource: str) -> Route:
        try:
            return self.by_resource[resource]
        except KeyError:
            raise ConfigurationError(f"no route for resource {resource!r}") from None

    def __iter__(self) -> Iterator[Route]:
        return iter(self.by_resource.values())


def _base(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError(f"base_url must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


def routes_for(cloud: Cloud, *, base_url: str | None = None, scope: str | None = None) -> Routes:
    """The routes of a client in *cloud*; *base_url* overrides hosts, *scope* the Defender API scope."""
    real = {
        MDE.name: (cloud.api_base, scope or cloud.scope),
        MTP.name: (cloud.xdr_base, f"{cloud.xdr_base}/.default"),
        GRAPH.name: (cloud.graph_base, f"{cloud.graph_base}/.default"),
    }
    if base_url is not None:
        base = _base(base_url)
        real_host = (urlsplit(base).hostname or "").lower() in all_api_hosts()
        moved = (MDE.name,) if real_host else tuple(real)
        real.update({name: (base, real[name][1]) for name in moved})
    return Routes({name: Route(name, url, sc) for name, (url, sc) in real.items()})


class TokenProviders(Generic[T]):
    """One token provider per resource, created on first use from *make(scope)*; thread-safe."""

    def __init__(self, routes: Routes, make: Callable[[str], T]) -> None:
        self._routes = routes
        self._make = make
        self._made: dict[str, T] = {}
        self._lock = Lock()

    def __getitem__(self, resource: str) -> T:
        provider = self._made.get(resource)
        if provider is None:
            with self._lock:
                provider = self._made.get(resource)
                if provider is None:
                    provider = self._made[resource] = self._make(self._routes[resource].scope)
        return provider

    def made(self) -> list[T]:
        """The providers created so far."""
        with self._lock:
            return list(self._made.values())
