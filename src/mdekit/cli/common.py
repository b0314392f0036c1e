"""Options every API command shares, and how they become a connected client.

Decorate a command with :func:`connected` and give it an ``opts: Options`` parameter; the
decorator adds ``--profile``, ``--tenant`` (repeatable), ``--all-profiles`` (read-only commands),
``--client-id``, ``--cloud``, ``--region``, ``--base-url``, ``--authority``, ``--ca`` and
``-o/--output`` to the command's options::

    @app.command("list")
    @connected(read_only=True)
    def list_(opts: Options, top: int = typer.Option(None)) -> None:
        for target in opts.targets(): client = target.client() ...

Which app and tenant: flags win; then ``--profile`` (or ``MDEKIT_PROFILE``); then the ``AZURE_*``
environment variables; then the default profile.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import typer

from mdekit.errors import ConfigurationError, MdeError

__all__ = ["Options", "Target", "connected", "fan_out", "make_client"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Options:
    """The common options of one command invocation."""

    profile: str | None = None
    tenants: list[str] = field(default_factory=list)
    all_profiles: bool = False
    client_id: str | None = None
    cloud: str | None = None
    region: str | None = None
    base_url: str | None = None
    authority: str | None = None
    ca: str | None = None
    output: str | None = None

    @property
    def fmt(self) -> str:
        """The output format (table on a terminal, JSON when piped, or ``-o``)."""
        from mdekit.cli.output import resolve_format

        return resolve_format(self.output)

    def base_profile(self) -> Any:
        """The profile before per-tenant fan-out, with flag overrides applied."""
        from mdekit import profiles

        name = self.profile or os.environ.get("MDEKIT_PROFILE")
        env_profile = profiles.from_environment()
        if name:
            prof = profiles.load().get(name)
        elif env_profile is not None:
            prof = env_profile
        else:
            config = profiles.load()
            if not config.default:
                raise ConfigurationError(
                    "no connection configured: run `mde profile add NAME --tenant ... --client-id ...`, "
                    "or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
                )
            prof = config.get(config.default)
        return self._override(prof)

    def _override(self, prof: Any) -> Any:
        changes = {
            k: v
            for k, v in {
                "client_id": self.client_id,
                "cloud": self.cloud,
                "region": self.region,
                "base_url": self.base_url,
                "authority": self.authority,
                "ca_cert": self.ca,
            }.items()
            if v
        }
        return dataclasses.replace(prof, **changes)

    def targets(self) -> list[Target]:
        """One target per tenant: ``--all-profiles``, each ``--tenant``, or the single profile."""
        from mdekit import profiles

        if self.all_profiles:
            config = profiles.load()
            if not config.profiles:
                raise ConfigurationError("--all-profiles: no profiles yet (add one with `mde profile add`)")
            return [Target(p.name, self._override(p)) for _, p in sorted(config.profiles.items())]
        base = self.base_profile()
        if self.tenants:
            return [Target(t, dataclasses.replace(base, tenant=t)) for t in dict.fromkeys(self.tenants)]
        if not base.tenant or not base.client_id:
            missing = "tenant id" if not base.tenant else "client id"
            raise ConfigurationError(f"profile {base.name!r} has no {missing} (use --tenant / --client-id)")
        return [Target(base.tenant, base)]

    def single(self) -> Target:
        """The one target of a command that changes things (fan-out is for reading only)."""
        found = self.targets()
        if len(found) != 1:
            raise ConfigurationError("this command acts on one tenant at a time: give one --tenant")
        return found[0]


@dataclass
class Target:
    """One tenant to talk to: a label for tagged output and the resolved profile."""

    label: str
    profile: Any
    _client: Any = None

    def client(self) -> Any:
        """The connected :class:`mdekit.client.Defender` (built once)."""
        if self._client is None:
            self._client = make_client(self.profile)
        return self._client


def make_client(prof: Any) -> Any:
    """A ``Defender`` client for the resolved profile *prof* (secret read only now)."""
    from mdekit.client import Defender

    if not prof.tenant or not prof.client_id:
        raise ConfigurationError("need a tenant id and a client id (profile, flags or AZURE_* variables)")
    return Defender.from_profile(prof)


def fan_out(targets: list[Target], work: Callable[[Target], Iterable[Any]]) -> Iterator[tuple[Target, Any]]:
    """Run *work* for every target concurrently; yield ``(target, item)`` as results arrive.

    With one target this is a plain loop (streams items as the pages come). With several, each
    tenant runs in its own thread with its own client (and rate limiter); an error in one tenant
    is reported on stderr and the others still complete; the first error is re-raised at the end
    so the exit code says something failed.
    """
    if len(targets) == 1:
        for item in work(targets[0]):
            yield targets[0], item
        return
    import sys

    from mdekit.cli.inputs import shorten_message
    from mdekit.cli.output import info

    def collect(target: Target) -> list[Any]:
        return list(work(target))

    first_error: MdeError | None = None
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        futures = [(t, pool.submit(collect, t)) for t in targets]
        for target, future in futures:
            try:
                items = future.result()
            except MdeError as exc:
                info(f"error: [{target.label}] {shorten_message(exc.message, sys.argv[1:])}")
                first_error = first_error or exc
                continue
            for item in items:
                yield target, item
    if first_error is not None:
        raise first_error


# -- the decorator --------------------------------------------------------------------------------


def _param(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _common_parameters(read_only: bool) -> list[inspect.Parameter]:
    P = _param
    params = [
        P(
            "profile",
            typer.Option(
                None,
                "--profile",
                "-p",
                help="Profile name (mde profile list).",
                envvar="MDEKIT_PROFILE",
                show_envvar=False,
            ),
            str | None,
        ),
        P(
            "tenant",
            typer.Option(
                None,
                "--tenant",
                "-t",
                help="Tenant id or domain; repeat to fan out over tenants (read-only commands)."
                if read_only
                else "Tenant id or domain.",
            ),
            list[str] | None,
        ),
        P("client_id", typer.Option(None, "--client-id", help="Application (client) id."), str | None),
        P("cloud", typer.Option(None, "--cloud", help="commercial, gcc, gcc-high, dod."), str | None),
        P("region", typer.Option(None, "--region", help="API geo: us, eu, uk, au, ..."), str | None),
        P(
            "base_url",
            typer.Option(
                None,
                "--base-url",
                help="Custom API base URL (e.g. the emulator).",
                envvar="MDEKIT_BASE_URL",
                show_envvar=False,
            ),
            str | None,
        ),
        P(
            "authority",
            typer.Option(
                None,
                "--authority",
                help="Custom login authority (e.g. the emulator).",
                envvar="MDEKIT_AUTHORITY",
                show_envvar=False,
            ),
            str | None,
        ),
        P(
            "ca",
            typer.Option(
                None,
                "--ca",
                help="CA bundle to trust (e.g. the emulator's CA).",
                envvar="MDEKIT_CA_BUNDLE",
                show_envvar=False,
            ),
            str | None,
        ),
        P(
            "output",
            typer.Option(
                None,
                "--output",
                "-o",
                help="table, json, ndjson or csv (default: table on a terminal, json when piped).",
            ),
            str | None,
        ),
    ]
    if read_only:
        every = typer.Option(False, "--all-profiles", help="Run for every profile (tagged by profile).")
        params.insert(2, P("all_profiles", every, bool))
    return params


def connected(*, read_only: bool = False) -> Callable[[F], F]:
    """Add the common options to a command whose function takes ``opts: Options``."""

    def decorate(func: F) -> F:
        sig = inspect.signature(func, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "opts"]
        common = _common_parameters(read_only)
        names = [p.name for p in common]

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            values = {n: kwargs.pop(n, None) for n in names}
            opts = Options(
                profile=values["profile"],
                tenants=list(values["tenant"] or []),
                all_profiles=bool(values.get("all_profiles")),
                client_id=values["client_id"],
                cloud=values["cloud"],
                region=values["region"],
                base_url=values["base_url"],
                authority=values["authority"],
                ca=values["ca"],
                output=values["output"],
            )
            return func(opts=opts, **kwargs)

        params = sorted(own + common, key=lambda p: p.kind)  # keep positional parameters first
        wrapper.__signature__ = sig.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate
