"""Test your own Defender automation against the emulator, as easily as with moto.

A pytest plugin (registered automatically when mdekit is installed) with fixtures, all prefixed
``mde_``; they need the emulator (``pip install 'mdekit[emulator]'``), and say so when it is missing:

=================  ==========  =====================================================================
fixture            scope       what it gives
=================  ==========  =====================================================================
``mde_emulator``   session     an :class:`Emulator` on a real HTTPS socket (in-process thread)
``mde_fresh``      function    the same emulator, reset: no tenants, data, faults, journal; real time
``mde_make_app``   function    factory: ``mde_make_app(permissions=[...]) -> MdeApp`` (new tenant)
``mde_app``        function    one app; permissions from ``@pytest.mark.mde(permissions=[...])``
                               (default: every WindowsDefenderATP application permission)
``mde_transparent`` function   Microsoft's real hostnames resolve to the emulator in this process
                               and the CA is trusted (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, ...)
``mde_env``        function    ``mde_transparent`` + AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET/
                               AZURE_AUTHORITY_HOST for ``mde_app``: unmodified code just works
``mde_clock``      function    :class:`Clock`: ``now()``, ``advance(seconds)``, ``set(when)``
``mde_faults``     function    :class:`Faults`: ``add(path=..., status=429, retry_after=5)``
``mde_journal``    function    :class:`Journal`: ``entries(method=, host=, path=glob)``, ``count``
=================  ==========  =====================================================================

Without pytest::

    from mdekit.testing import emulate
    with emulate(permissions=["Machine.Isolate", "Machine.Read.All"]) as env:
        run_my_script()              # hard-coded login.microsoftonline.com etc. reach the emulator
        assert env.journal.count(method="POST", path="/api/machines/*/isolate") == 1

Importing this module stays cheap (pytest imports plugins on every run): the emulator, httpx and
the rest load only when a fixture or :func:`emulate` runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Clock",
    "EmulatedEnvironment",
    "Emulator",
    "Faults",
    "Journal",
    "MdeApp",
    "emulate",
    "resolve_to_emulator",
    "start_emulator",
]

MDE_SCOPE = "https://api.securitycenter.microsoft.com/.default"
_UNSET = (
    "CURL_CA_BUNDLE",
    "MSAL_FORCE_REGION",
    "AZURE_REGIONAL_AUTHORITY_NAME",
    "AZURE_CLIENT_CERTIFICATE_PATH",
)
# Microsoft names that are not emulated: refused in-process so a test never reaches the real service.
_GUARDED_SUFFIXES = (
    ".microsoftonline.com",
    ".microsoft.com",
    ".windows.net",
    ".microsoft.us",
    ".windows.com",
)


def _default_permissions() -> list[str]:
    from mdekit.catalog import MDE

    return list(MDE.roles)


class Clock:
    """The emulator's virtual clock (drives token expiry, throttling windows, action progress)."""

    def __init__(self, emulator: Emulator) -> None:
        self._emu = emulator

    def now(self) -> dt.datetime:
        """The virtual time (UTC)."""
        return _parse(self._emu.call("GET", "/_emulator/clock")["now"])

    def advance(self, seconds: float | dt.timedelta) -> dt.datetime:
        """Move the clock forward; returns the new time."""
        secs = seconds.total_seconds() if isinstance(seconds, dt.timedelta) else float(seconds)
        return _parse(self._emu.call("POST", "/_emulator/clock", {"advanceSeconds": secs})["now"])

    def set(self, when: dt.datetime | str) -> dt.datetime:
        """Jump to *when* (aware datetime or ISO 8601 text)."""
        text = when.astimezone(dt.UTC).isoformat() if isinstance(when, dt.datetime) else when
        return _parse(self._emu.call("POST", "/_emulator/clock", {"now": text})["now"])


class Faults:
    """Fault plans: make matching requests fail, stall or drop (``/_emulator/faults``)."""

    def __init__(self, emulator: Emulator) -> None:
        self._emu = emulator

    def add(
        self,
        *,
        path: str | None = None,
        path_regex: str | None = None,
        method: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay_seconds: float | None = None,
        drop: bool = False,
        nth: int | None = None,
        every: int | None = None,
        probability: float | None = None,
        count: int | None = None,
        seed: int | None = None,
        app_id: str | None = None,
        tenant_id: str | None = None,
        drop_after_commit: bool = False,
    ) -> str:
        """Add a plan; returns its id, e.g. ``add(path="/api/machines", status=429, retry_after=5)``.

        ``drop_after_commit=True``: the emulator handles and commits the request, then drops the
        connection before the answer (the client cannot know whether it was acted on).
        """
        plan = {
            "method": method, "path": path, "pathRegex": path_regex, "status": status,
            "retryAfter": retry_after, "delaySeconds": delay_seconds, "drop": drop or None, "nth": nth,
            "every": every, "probability": probability, "count": count, "seed": seed,
            "appId": app_id, "tenantId": tenant_id, "dropAfterCommit": drop_after_commit or None,
        }  # fmt: skip
        body = {k: v for k, v in plan.items() if v is not None}
        return str(self._emu.call("POST", "/_emulator/faults", body)["id"])

    def list(self) -> list[dict[str, Any]]:
        """The active plans."""
        return list(self._emu.call("GET", "/_emulator/faults").get("value", []))

    def remove(self, plan_id: str) -> None:
        """Remove one plan."""
        self._emu.call("DELETE", f"/_emulator/faults/{plan_id}")

    def clear(self) -> None:
        """Remove every plan."""
        self._emu.call("DELETE", "/_emulator/faults")

    @contextlib.contextmanager
    def inject(self, **plan: Any) -> Iterator[str]:
        """``with faults.inject(path=..., status=503):`` the plan holds inside the block only."""
        plan_id = self.add(**plan)
        try:
            yield plan_id
        finally:
            self.remove(plan_id)


class Journal:
    """The emulator's request journal (never a secret or a token), for assertions."""

    def __init__(self, emulator: Emulator) -> None:
        self._emu = emulator

    def entries(
        self,
        *,
        method: str | None = None,
        host: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> list[dict[str, Any]]:
        """Entries oldest first, filtered; *host* and *path* are glob patterns (``/api/machines/*``)."""
        out = []
        for e in self._emu.call("GET", "/_emulator/requests")["value"]:
            bare_host = (e.get("host") or "").rsplit(":", 1)[0]
            if method is not None and e["method"] != method.upper():
                continue
            if host is not None and not fnmatch.fnmatchcase(bare_host, host):
                continue
            if path is not None and not fnmatch.fnmatchcase(e["path"], path):
                continue
            if status is not None and e["status"] != status:
                continue
            out.append(e)
        return out

    def count(self, **filters: Any) -> int:
        """How many entries match (same filters as :meth:`entries`)."""
        return len(self.entries(**filters))

    def clear(self) -> None:
        """Forget every entry."""
        self._emu.call("DELETE", "/_emulator/requests")


@dataclass
class MdeApp:
    """An app registration with a secret and granted permissions, in its own tenant."""

    emulator: Emulator
    tenant_id: str
    tenant_domain: str
    client_id: str
    secret: str
    permissions: list[str]

    def token(self, scope: str = MDE_SCOPE) -> str:
        """A fresh app-only access token (v2 token endpoint, client secret)."""
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.secret, "scope": scope}  # fmt: skip
        body = self.emulator.call("POST", f"/{self.tenant_id}/oauth2/v2.0/token", form=form)
        return str(body["access_token"])

    def environ(self, *, direct: bool = False) -> dict[str, str]:
        """Environment for azure-identity (``EnvironmentCredential``/``DefaultAzureCredential``).

        ``direct=True`` points ``AZURE_AUTHORITY_HOST`` at the emulator's own URL (for subprocesses,
        which the in-process resolver does not reach; their sync credentials then need
        ``disable_instance_discovery=True``). Otherwise the real login host is used and
        :func:`resolve_to_emulator` (or a hosts file) must send it to the emulator.
        """
        authority = self.emulator.url if direct else "https://login.microsoftonline.com"
        return {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.secret,
            "AZURE_AUTHORITY_HOST": authority,
            **self.emulator.trust_env(),
        }


class Emulator:
    """A running emulator, driven through its documented control plane over HTTPS."""

    def __init__(self, url: str, ca_cert: Path, workdir: Path, server: Any = None) -> None:
        self.url = url
        self.ca_cert = ca_cert
        self.port = int(url.rsplit(":", 1)[1])
        self.server = server
        from mdekit.emulator.transparent import write_ca_bundle

        #: System roots + the emulator's CA: real sites still verify with it.
        self.ca_bundle = write_ca_bundle(ca_cert, workdir / "ca-bundle.pem")
        self._client: httpx.Client | None = None
        self.clock = Clock(self)
        self.faults = Faults(self)
        self.journal = Journal(self)

    @property
    def control(self) -> httpx.Client:
        """An httpx client for the emulator's URL (trusts its CA, ignores proxies)."""
        if self._client is None:
            import ssl

            import httpx

            ctx = ssl.create_default_context(cafile=str(self.ca_cert))
            self._client = httpx.Client(base_url=self.url, verify=ctx, trust_env=False, timeout=30)
        return self._client

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        form: dict[str, str] | None = None,
    ) -> Any:
        """One control-plane (or any) request; JSON answer, ``None`` for 204; EmulatorError otherwise."""
        from mdekit.errors import EmulatorError, scrub

        resp = self.control.request(method, path, json=body, data=form)
        if resp.status_code >= 400:
            raise EmulatorError(scrub(f"{method} {path} -> {resp.status_code}: {resp.text[:500]}"))
        return resp.json() if resp.content else None

    def reset(self) -> None:
        """Forget every tenant, app, record, fault plan and journal entry; clock back to real time."""
        self.call("POST", "/_emulator/reset")
        self.clock.set(dt.datetime.now(dt.UTC))

    def create_tenant(self, display_name: str = "Contoso") -> dict[str, Any]:
        """A new tenant: ``{"tenantId", "displayName", "domain"}``."""
        return dict(self.call("POST", "/_emulator/tenants", {"displayName": display_name}))

    def create_app(
        self,
        permissions: list[str] | tuple[str, ...] | None = None,
        *,
        tenant_id: str | None = None,
        display_name: str = "mdekit test app",
        multi_tenant: bool = False,
    ) -> MdeApp:
        """An app with a secret and *permissions* granted (admin consent), in a new tenant by default."""
        perms = list(_default_permissions() if permissions is None else permissions)
        tenant = self.create_tenant() if tenant_id is None else {"tenantId": tenant_id, "domain": ""}
        body = {"displayName": display_name, "multiTenant": multi_tenant, "permissions": perms,
                "grantConsent": True, "secret": True}  # fmt: skip
        app = self.call("POST", f"/_emulator/tenants/{tenant['tenantId']}/applications", body)
        return MdeApp(self, tenant["tenantId"], tenant.get("domain", ""), app["appId"],
                      app["secret"]["value"], perms)  # fmt: skip

    def seed(self, tenant_id: str, *, machines: int = 10, alerts: int = 20, seed: int = 1) -> dict[str, Any]:
        """Generate realistic machines/alerts/... for *tenant_id*; returns the counts."""
        body = {"machines": machines, "alerts": alerts, "seed": seed}
        return dict(self.call("POST", f"/_emulator/tenants/{tenant_id}/seed", body))

    def set_script(
        self,
        name: str,
        *,
        exit_code: int = 0,
        output: str = "{args}",
        errors: str = "",
        duration: float = 10.0,
    ) -> dict[str, Any]:
        """What library script *name* does when live response runs it (``{args}`` is replaced by
        its arguments; over 600 s it times out)."""
        body = {"name": name, "exitCode": exit_code, "output": output, "errors": errors,
                "durationSeconds": duration}  # fmt: skip
        return dict(self.call("POST", "/_emulator/scripts", body))

    def machine_files(self, tenant_id: str, machine_id: str) -> list[dict[str, Any]]:
        """A machine's virtual file system: ``[{"path", "size", "sha1", "origin"}]``."""
        return list(self.call("GET", f"/_emulator/tenants/{tenant_id}/machines/{machine_id}/files")["value"])

    def trust_env(self) -> dict[str, str]:
        """CA trust for every common client (combined bundle), and ``NO_PROXY``."""
        from mdekit.emulator.transparent import trust_settings

        return trust_settings(self.ca_bundle, self.ca_cert)

    def close(self) -> None:
        """Close the control client and stop the in-process server, if this object owns one."""
        if self._client is not None:
            self._client.close()
        if self.server is not None:
            self.server.stop()


@contextlib.contextmanager
def start_emulator(workdir: Path | None = None) -> Iterator[Emulator]:
    """Start an in-process emulator (real HTTPS socket, thread) that also answers for the real hosts."""
    from mdekit.emulator.transparent import TransparentServer

    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mdekit-")))
        server = TransparentServer(port=0, state_dir=workdir / "state").start()
        emulator = Emulator(server.url, server.ca_cert, workdir, server)
        stack.callback(emulator.close)
        yield emulator


def _patch_aiohttp_trust(ca_cert: Path) -> None:
    # aiohttp builds its default SSL context when imported, before a test sets SSL_CERT_FILE;
    # adding the (test-only) CA to that context is the only way default aiohttp code trusts it.
    connector = sys.modules.get("aiohttp.connector")
    ctx = getattr(connector, "_SSL_CONTEXT_VERIFIED", None)
    if ctx is not None:
        ctx.load_verify_locations(cafile=str(ca_cert))


@contextlib.contextmanager
def resolve_to_emulator(emulator: Emulator, *, guard: bool = True) -> Iterator[None]:
    """In this process, Microsoft's real hostnames (port 443) connect to the emulator.

    Hard-coded ``https://login.microsoftonline.com/...`` and ``https://api.securitycenter.microsoft.com``
    reach the emulator; TLS still verifies the name (the emulator's certificate carries it). With
    *guard*, other Microsoft names fail to resolve, so a test never talks to the real service.
    Subprocesses are not affected: use a hosts file or ``mde emulator env`` for those.
    """
    from mdekit.emulator.transparent import transparent_hosts

    hosts = set(transparent_hosts().all)
    real = socket.getaddrinfo

    def getaddrinfo(
        host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        name = name.lower().rstrip(".")
        if name in hosts:
            kind = type or socket.SOCK_STREAM
            return [(socket.AF_INET, kind, proto or 6, "", ("127.0.0.1", emulator.port))]
        if guard and name.endswith(_GUARDED_SUFFIXES):
            raise socket.gaierror(socket.EAI_NONAME, f"mdekit.testing: {name} is not emulated (blocked)")
        return real(host, port, family, type, proto, flags)

    _patch_aiohttp_trust(emulator.ca_cert)
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


@contextlib.contextmanager
def _environ(values: dict[str, str], unset: tuple[str, ...] = _UNSET) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*values, *unset)}
    os.environ.update(values)
    for key in unset:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class EmulatedEnvironment:
    """What :func:`emulate` yields: the emulator, one ready app, and shortcuts to both."""

    emulator: Emulator
    app: MdeApp
    url: str = field(init=False)
    ca: Path = field(init=False)
    tenant_id: str = field(init=False)
    client_id: str = field(init=False)
    secret: str = field(init=False)

    def __post_init__(self) -> None:
        self.url, self.ca = self.emulator.url, self.emulator.ca_cert
        self.tenant_id, self.client_id, self.secret = self.app.tenant_id, self.app.client_id, self.app.secret

    @property
    def clock(self) -> Clock:
        """The virtual clock."""
        return self.emulator.clock

    @property
    def faults(self) -> Faults:
        """Fault plans."""
        return self.emulator.faults

    @property
    def journal(self) -> Journal:
        """The request journal."""
        return self.emulator.journal


@contextlib.contextmanager
def emulate(
    permissions: list[str] | tuple[str, ...] | None = None,
    *,
    transparent: bool = True,
    set_env: bool = True,
    emulator: Emulator | None = None,
) -> Iterator[EmulatedEnvironment]:
    """An emulator with one app ready, without pytest.

    *transparent*: real hostnames resolve to it in this process; *set_env*: the azure-identity
    variables and CA trust are set in ``os.environ`` (restored on exit). Pass a running *emulator*
    to reuse it (it is reset first).
    """
    with contextlib.ExitStack() as stack:
        if emulator is None:
            emulator = stack.enter_context(start_emulator())
        else:
            emulator.reset()
        env = EmulatedEnvironment(emulator, emulator.create_app(permissions))
        if transparent:
            stack.enter_context(resolve_to_emulator(emulator))
        if set_env:
            stack.enter_context(_environ(env.app.environ(direct=not transparent)))
        yield env


def _parse(text: str) -> dt.datetime:
    from mdekit.emulator.clock import parse_time

    return parse_time(text)


# Fixtures are defined only when pytest is running (it imports this plugin at start-up), so
# emulate() users outside pytest do not pay for importing pytest.
pytest: Any = sys.modules.get("pytest")

if pytest is not None:

    def pytest_configure(config: Any) -> None:
        """Register the ``mde`` marker (``@pytest.mark.mde(permissions=[...])``)."""
        config.addinivalue_line("markers", "mde(permissions): permissions granted to the mde_app fixture")

    @pytest.fixture(scope="session")
    def mde_emulator(tmp_path_factory: Any) -> Iterator[Emulator]:
        """One in-process emulator (real HTTPS socket) for the session; see ``mde_fresh`` to reset it."""
        with start_emulator(tmp_path_factory.mktemp("mdekit-emulator")) as emulator:
            yield emulator

    @pytest.fixture
    def mde_fresh(mde_emulator: Emulator) -> Emulator:
        """The session emulator, reset for this test (no tenants, data, faults, journal; real time)."""
        mde_emulator.reset()
        return mde_emulator

    @pytest.fixture
    def mde_make_app(mde_fresh: Emulator) -> Callable[..., MdeApp]:
        """Factory: ``mde_make_app(permissions=[...], multi_tenant=False)`` -> a ready :class:`MdeApp`."""
        return mde_fresh.create_app

    @pytest.fixture
    def mde_app(mde_make_app: Callable[..., MdeApp], request: Any) -> MdeApp:
        """An app in its own tenant with ``@pytest.mark.mde(permissions=[...])`` (default: all MDE roles)."""
        marker = request.node.get_closest_marker("mde")
        permissions = marker.kwargs.get("permissions") if marker else None
        return mde_make_app(permissions)

    @pytest.fixture
    def mde_transparent(mde_fresh: Emulator, monkeypatch: Any) -> Iterator[Emulator]:
        """Real Microsoft hostnames reach the emulator in this process; its CA is trusted via env."""
        for key, value in mde_fresh.trust_env().items():
            monkeypatch.setenv(key, value)
        for key in _UNSET:
            monkeypatch.delenv(key, raising=False)
        with resolve_to_emulator(mde_fresh):
            yield mde_fresh

    @pytest.fixture
    def mde_env(mde_transparent: Emulator, mde_app: MdeApp, monkeypatch: Any) -> MdeApp:
        """``mde_transparent`` + azure-identity's AZURE_* variables for ``mde_app``."""
        for key, value in mde_app.environ().items():
            monkeypatch.setenv(key, value)
        return mde_app

    @pytest.fixture
    def mde_clock(mde_fresh: Emulator) -> Clock:
        """The emulator's virtual clock (reset to real time for this test)."""
        return mde_fresh.clock

    @pytest.fixture
    def mde_faults(mde_fresh: Emulator) -> Faults:
        """Fault plans (none at the start of the test)."""
        return mde_fresh.faults

    @pytest.fixture
    def mde_journal(mde_fresh: Emulator) -> Journal:
        """The request journal (empty at the start of the test)."""
        return mde_fresh.journal
