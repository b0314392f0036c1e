"""Transparent mode: the emulator answers for Microsoft's real hostnames.

Most Defender automation hard-codes ``login.microsoftonline.com`` and
``api.securitycenter.microsoft.com``. Point those names at the emulator (a hosts file, a container's
``--add-host``, a network namespace, or :mod:`mdekit.testing`'s in-process resolver), trust the
emulator's CA, and that code runs unchanged:

* :func:`transparent_hosts` lists every name served (login hosts of every cloud, the MDE API hosts,
  the Graph hosts); the server certificate carries them all as SANs.
* :class:`HostRouter` routes by ``Host`` header like the real services: login hosts serve only the
  token service, API hosts only ``/api``, Graph hosts only ``/v1.0``; anything else gets that
  service's own 404 shape. Other hosts (``localhost``, ``127.0.0.1``) see the whole emulator.
* :class:`TransparentServer` is :class:`~mdekit.emulator.server.EmulatorServer` on port 443 with both.
* :func:`trust_settings`, :func:`hosts_file_lines`, :func:`write_ca_bundle`, :func:`install_ca` help
  a machine or container trust and reach it (``mde emulator env`` / ``mde emulator trust``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mdekit.clouds import CLOUDS, all_api_hosts, all_login_hosts
from mdekit.emulator.envelopes import send_problem
from mdekit.emulator.server import EmulatorServer
from mdekit.errors import ConfigurationError, EmulatorError

__all__ = [
    "CA_STORE_NAME",
    "DEBIAN_STORE",
    "UNSET_VARIABLES",
    "HostKind",
    "HostRouter",
    "TransparentHosts",
    "TransparentServer",
    "ca_installed",
    "hosts_file_lines",
    "install_ca",
    "install_host_routing",
    "no_proxy_value",
    "path_allowed",
    "shell_exports",
    "system_roots",
    "transparent_hosts",
    "trust_settings",
    "uninstall_ca",
    "write_ca_bundle",
]

HostKind = Literal["login", "api", "graph"]

#: Environment variables that make Microsoft clients leave the emulated hosts (region rewrites)
#: or override the trust settings; a transparent set-up unsets them.
UNSET_VARIABLES: tuple[str, ...] = ("MSAL_FORCE_REGION", "AZURE_REGIONAL_AUTHORITY_NAME")

#: File name of the CA in the Debian/Ubuntu store.
CA_STORE_NAME = "mdekit-emulator-ca.crt"
DEBIAN_STORE = Path("/usr/local/share/ca-certificates")
_SYSTEM_BUNDLES = (
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian, Ubuntu, Alpine
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # Fedora, RHEL
    Path("/etc/ssl/cert.pem"),  # macOS, BSD
)
# First path segments of the other services (and the control plane): never token-service paths.
_NOT_LOGIN_PREFIXES = frozenset({"api", "v1.0", "beta", "_emulator"})


@dataclass(frozen=True)
class TransparentHosts:
    """The real hostnames a transparent emulator answers for, by service."""

    login: tuple[str, ...]
    api: tuple[str, ...]
    graph: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        """Every name, sorted (the certificate's SANs, the hosts-file lines)."""
        return tuple(sorted({*self.login, *self.api, *self.graph}))

    def kind(self, host: str) -> HostKind | None:
        """Which service *host* (``Host`` header, port and trailing dot allowed) belongs to."""
        name = _bare_host(host)
        if name in self.login:
            return "login"
        if name in self.api:
            return "api"
        if name in self.graph:
            return "graph"
        return None


def transparent_hosts() -> TransparentHosts:
    """Login hosts of every cloud, every MDE API host, every Graph host."""
    graph = tuple(sorted({c.graph_host for c in CLOUDS.values()}))
    return TransparentHosts(all_login_hosts(), all_api_hosts(), graph)


def _bare_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [v6]:port
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


def path_allowed(kind: HostKind, path: str) -> bool:
    """Whether a real host of *kind* serves *path* (only the kind's own service)."""
    first = path.lstrip("/").split("/", 1)[0].lower()
    if kind == "api":
        return first == "api"
    if kind == "graph":
        return first == "v1.0"
    return first != "" and first not in _NOT_LOGIN_PREFIXES


class HostRouter:
    """ASGI middleware: a real hostname serves only its own service's paths.

    Sits inside the request journal (so refused requests are journaled) and outside the routes.
    """

    def __init__(self, app: Any, hosts: TransparentHosts | None = None) -> None:
        self.app = app
        self.hosts = hosts or transparent_hosts()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        kind = self.hosts.kind(host)
        if kind is None or path_allowed(kind, scope["path"]):
            await self.app(scope, receive, send)
            return
        # Each real host's own "no such path" answer (its envelope, or the login service's page).
        await send_problem(scope, receive, send, None, {"api": "mde", "graph": "graph"}.get(kind, "entra"))


def install_host_routing(app: Any, hosts: TransparentHosts | None = None) -> Any:
    """Add :class:`HostRouter` to the emulator app (before it serves), just inside the journal."""
    from starlette.middleware import Middleware

    from mdekit.emulator.app import JournalMiddleware

    stack = app.user_middleware  # outermost first
    index = next((i + 1 for i, m in enumerate(stack) if m.cls is JournalMiddleware), 0)
    stack.insert(index, Middleware(HostRouter, hosts=hosts or transparent_hosts()))
    return app


class TransparentServer(EmulatorServer):
    """The emulator posing as Microsoft's hosts: port 443, a certificate for every real name.

    Name resolution is the caller's job (hosts file, ``--add-host``, network namespace, or the
    in-process resolver of :mod:`mdekit.testing`)::

        with TransparentServer(state_dir=d) as emu:   # needs root (or CAP_NET_BIND_SERVICE) for 443
            ...
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 443, **kwargs: Any) -> None:
        self.hosts = transparent_hosts()
        extra = tuple(kwargs.pop("extra_hosts", ()))
        super().__init__(host=host, port=port, extra_hosts=(*self.hosts.all, *extra), **kwargs)

    def _make_server(self) -> Any:
        server = super()._make_server()
        install_host_routing(server.config.app, self.hosts)
        return server


# --- reaching and trusting it -----------------------------------------------------------------


def hosts_file_lines(address: str = "127.0.0.1", hosts: TransparentHosts | None = None) -> list[str]:
    """``/etc/hosts`` lines mapping every real hostname to *address*."""
    return [f"{address} {name}" for name in (hosts or transparent_hosts()).all]


def system_roots() -> Path | None:
    """The machine's root bundle (OS bundle first, then certifi), or ``None``."""
    for path in _SYSTEM_BUNDLES:
        if path.is_file():
            return path
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with requests/httpx
        return None
    return Path(certifi.where())


def write_ca_bundle(ca_cert: Path, dest: Path, roots: Path | None = None) -> Path:
    """Write *dest* = system roots + the emulator's CA (real sites keep working with it)."""
    ca_pem = ca_cert.read_text().strip() + "\n"
    roots = roots if roots is not None else system_roots()
    base = roots.read_text() if roots is not None and roots.is_file() else ""
    text = base if ca_pem.strip() in base else base.rstrip("\n") + ("\n" if base else "") + ca_pem
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(dest)
    return dest


def no_proxy_value(hosts: TransparentHosts | None = None) -> str:
    """``NO_PROXY``: loopback and every emulated name, so a proxy never sees them."""
    return ",".join(("127.0.0.1", "localhost", "::1", *(hosts or transparent_hosts()).all))


def trust_settings(bundle: Path, ca_cert: Path | None = None) -> dict[str, str]:
    """Environment that makes curl, requests/msal, aiohttp/ssl, httpx and Node trust *bundle*."""
    env = {
        "REQUESTS_CA_BUNDLE": str(bundle),  # requests, msal, azure-identity (sync)
        "SSL_CERT_FILE": str(bundle),  # OpenSSL default: aiohttp, azure-identity aio, httpx, urllib
        "CURL_CA_BUNDLE": str(bundle),  # curl
        "NO_PROXY": no_proxy_value(),
    }
    if ca_cert is not None:
        env["NODE_EXTRA_CA_CERTS"] = str(ca_cert)  # Node adds it to its own roots
    return env


def shell_exports(env: dict[str, str], unset: tuple[str, ...] = UNSET_VARIABLES) -> str:
    """POSIX shell lines to ``eval``: ``export K=V`` for *env*, ``unset`` for *unset*."""
    lines = [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
    if "NO_PROXY" in env:
        lines.append(f"export no_proxy={shlex.quote(env['NO_PROXY'])}")
    if unset:
        lines.append("unset " + " ".join(unset))
    return "\n".join(lines) + "\n"


def ca_installed(ca_cert: Path, store: Path = DEBIAN_STORE) -> bool:
    """Whether *ca_cert* is in the Debian/Ubuntu store under our name."""
    target = store / CA_STORE_NAME
    return target.is_file() and target.read_bytes().strip() == ca_cert.read_bytes().strip()


def _debian_store(store: Path) -> str:
    tool = shutil.which("update-ca-certificates")
    if tool is None or not store.is_dir():
        raise ConfigurationError(
            "`mde emulator trust` manages the Debian/Ubuntu store only; elsewhere trust the CA by hand: "
            "Fedora/RHEL: cp CA /etc/pki/ca-trust/source/anchors/ && update-ca-trust; "
            "macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain CA; "
            "Windows: certutil -addstore -f ROOT CA; or use `mde emulator env` (no system change)"
        )
    if os.geteuid() != 0:
        raise ConfigurationError("changing the system CA store needs root: run it with sudo")
    return tool


def _refresh(tool: str, fresh: bool = False) -> None:
    cmd = [tool, "--fresh"] if fresh else [tool]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EmulatorError(f"update-ca-certificates failed: {(done.stderr or done.stdout).strip()}")


def install_ca(ca_cert: Path, store: Path = DEBIAN_STORE) -> Path:
    """Add the emulator's CA to the Debian/Ubuntu store (``update-ca-certificates``)."""
    tool = _debian_store(store)
    target = store / CA_STORE_NAME
    shutil.copyfile(ca_cert, target)
    target.chmod(0o644)
    _refresh(tool)
    return target


def uninstall_ca(store: Path = DEBIAN_STORE) -> bool:
    """Remove our CA from the Debian/Ubuntu store; ``False`` if it was not there."""
    tool = _debian_store(store)
    target = store / CA_STORE_NAME
    if not target.exists():
        return False
    target.unlink()
    _refresh(tool, fresh=True)  # --fresh drops the removed certificate's hash link
    return True
