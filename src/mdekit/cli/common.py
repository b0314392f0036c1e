"""How an ``mde`` command is built, and the options every API command shares.

Every family is a typer app made by :func:`new_app` (plain help, ``-h``, no completion options)
in its own module, listed in :data:`mdekit.cli.main.COMMANDS` (imported on first use, so
``mde --help`` stays fast). A command picks its *class* by what it does; the class adds the
shared options (defined once in :mod:`mdekit.cli.options`) and hands them to the command through
its Typer context, so the command declares only its own options:

==============  ============================================================================
``Connected``   one tenant: ``--profile --tenant --client-id --cloud --region --base-url
                --authority --ca -o/--output --csv-raw`` -> :func:`options` (:class:`Options`)
``Listing``     the same, ``--tenant`` repeatable plus ``--all-profiles`` (fan-out, rows tagged)
``Queried``     a ``Listing`` of one service list, plus ``--select --order-by --count``
                -> :func:`list_query` (:class:`ListQuery`), handed to ``show_list``
``Acting``      ``Connected`` plus the rails of a machine action: ``[MACHINES]... --from-file
                -m/--comment --dry-run -y/--yes --wait --timeout --interval --state-file``
                -> :func:`action_options` (:class:`ActionOptions`)
==============  ============================================================================

A listing command (``-o table|json|ndjson|csv``, ``--filter``, paging with progress, fan-out over
tenants: all in :func:`mdekit.cli.listing.show_list`)::

    app = new_app("List software inventory.")

    @app.command("list", cls=Listing)
    def list_(ctx: typer.Context, filter_: Filter = None, since: Since = None, top: Top = None) -> None:
        \"\"\"List software (all pages unless --top).\"\"\"
        query = {"filter": filter_, "since": parse_since(since), "limit": top}
        show_list(options(ctx), lambda c: c.software.list(**query), columns=COLUMNS,
                  label="software", total=top)

An action command (dry run that resolves names read-only, confirmation above one target, resume
state file, one audit line per action, ``--wait`` with live per-action status and progress: all in
:func:`mdekit.cli.acting.act`)::

    @app.command("run-script", cls=Acting)
    def run_script(ctx: typer.Context, script: Annotated[str, typer.Option(..., "--script")]) -> None:
        \"\"\"Run a library script on machines (Machine.LiveResponse).\"\"\"
        act(ctx, "run script", lambda c, machine_id, text: c.live_response.run(machine_id, script, text),
            script=script)

Other commands that change things (``alerts update``, ``indicators delete``, ``machines tag``) use
``Connected`` with the rails they need from :mod:`mdekit.cli.options` (``Targets``, ``FromFile``,
``DryRun``, ``Yes``) and :mod:`mdekit.cli.bulk` (``read_targets``, ``confirm``, ``audit``).
A new option group is a dataclass whose fields are ``Annotated`` options (with defaults); a
command class (a :class:`GroupedCommand`) lists it in ``groups`` and the command reads it with
:func:`group_of` (``mde emulator``'s ``--url --ca --ready-file --json`` are one such group).

Which app and tenant: flags win; then ``--profile`` (or ``MDEKIT_PROFILE``); then the ``AZURE_*``
environment variables; then the default profile.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import typer
from typer.core import TyperCommand

from mdekit.cli.options import (
    AllProfiles,
    Authority,
    BaseUrl,
    Ca,
    ClientId,
    Cloud,
    Comment,
    Count,
    CsvRaw,
    DryRun,
    FromFile,
    Interval,
    OrderBy,
    Output,
    Profile,
    Region,
    Select,
    StateFile,
    Targets,
    Tenants,
    Timeout,
    Wait,
    Yes,
)
from mdekit.errors import ConfigurationError, MdeError

__all__ = [
    "Acting",
    "ActionOptions",
    "Connected",
    "GroupedCommand",
    "ListQuery",
    "Listing",
    "Options",
    "Queried",
    "Target",
    "action_options",
    "fan_out",
    "group_of",
    "list_query",
    "make_client",
    "new_app",
    "options",
]


G = TypeVar("G")


def new_app(help: str, *, no_args_is_help: bool = True) -> typer.Typer:
    """A family's typer app: plain help like every other command, no completion options."""
    return typer.Typer(
        help=help, no_args_is_help=no_args_is_help, rich_markup_mode=None, add_completion=False
    )


@dataclass
class Options:
    """The connection and output options of one command invocation (an option group: each field's
    ``Annotated`` type is its command-line option, see :class:`Connected`)."""

    profile: Profile = None
    tenants: Tenants = None
    all_profiles: AllProfiles = False
    client_id: ClientId = None
    cloud: Cloud = None
    region: Region = None
    base_url: BaseUrl = None
    authority: Authority = None
    ca: Ca = None
    output: Output = None
    csv_raw: CsvRaw = False

    @property
    def fmt(self) -> str:
        """The output format (table on a terminal, JSON when piped, or ``-o``)."""
        from mdekit.cli.output import resolve_format

        return resolve_format(self.output)

    def emit(
        self, rows: Iterable[Any], *, columns: Sequence[str] | None = None, keep: Sequence[str] = ()
    ) -> int:
        """Write *rows* in this invocation's format (see :func:`mdekit.cli.output.emit`)."""
        from mdekit.cli.output import emit

        return emit(rows, self.fmt, columns=columns, csv_raw=self.csv_raw, keep=keep)

    def emit_one(self, obj: Any) -> None:
        """Write one record in this invocation's format."""
        from mdekit.cli.output import emit_one

        emit_one(obj, self.fmt, csv_raw=self.csv_raw)

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


# -- option groups: a dataclass whose fields are Annotated options; a command class lists it ----------


@dataclass(frozen=True)
class ActionOptions:
    """The rails of a machine action command, as given (targets are read by :meth:`targets`)."""

    machines: Targets = None
    from_file: FromFile = None
    comment: Comment = None
    dry_run: DryRun = False
    yes: Yes = False
    wait: Wait = False
    timeout: Timeout = 900.0
    interval: Interval = 5.0
    state_file: StateFile = None

    def targets(self) -> list[str]:
        """The ids/names from the arguments and ``--from-file``, de-duplicated; none is an error."""
        from mdekit.cli.bulk import read_targets

        return read_targets(self.machines, self.from_file)


@dataclass(frozen=True)
class ListQuery:
    """``--select``, ``--order-by`` and ``--count`` of a command listing one service list."""

    select: Select = None
    order_by: OrderBy = None
    count: Count = False

    @property
    def args(self) -> dict[str, Any]:
        """``select=``/``order_by=`` for the client's list method (checked there: bad names are a
        one-line ConfigurationError before anything is sent)."""
        return {"select": self.select, "order_by": self.order_by}


@functools.cache
def _group_params(group: type) -> tuple[Any, ...]:
    """The click parameters typer makes of an option group's fields (built once per group)."""
    holder = typer.Typer(add_completion=False)
    holder.command()(group)
    return tuple(typer.main.get_command(holder).params)


def _plain(value: Any) -> Any:
    """A repeated option's tuple as a list (``None`` when empty), as typer hands it to commands."""
    return (list(value) or None) if isinstance(value, tuple) else value


class GroupedCommand(TyperCommand):
    """A command that takes the options of its :attr:`groups` besides its own.

    The groups' values are taken out of the parsed parameters before the command runs; each group
    dataclass, filled with them, is kept in the Typer context (``ctx.meta``) for the command.
    """

    groups: ClassVar[tuple[type, ...]] = ()
    omit: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for group in self.groups:
            self.params.extend(p for p in _group_params(group) if p.name not in self.omit)

    def invoke(self, ctx: Any) -> Any:
        for group in self.groups:
            names = [p.name for p in _group_params(group) if p.name not in self.omit]
            ctx.meta[_key(group)] = group(**{n: _plain(ctx.params.pop(n)) for n in names})
        return super().invoke(ctx)


def _key(group: type) -> str:
    return f"mdekit.cli.{group.__name__}"


class Connected(GroupedCommand):
    """A command on one tenant; read the options with :func:`options`."""

    groups: ClassVar[tuple[type, ...]] = (Options,)
    omit: ClassVar[frozenset[str]] = frozenset({"all_profiles"})


class Listing(Connected):
    """A read-only command that may fan out over tenants (``--tenant`` repeated, ``--all-profiles``)."""

    omit: ClassVar[frozenset[str]] = frozenset()


class Queried(Listing):
    """A listing of one service list: also ``--select``, ``--order-by``, ``--count``, read with
    :func:`list_query` and handed to :func:`mdekit.cli.listing.show_list`."""

    groups: ClassVar[tuple[type, ...]] = (ListQuery, Options)


class Acting(Connected):
    """A machine action with the rails; read them with :func:`action_options`."""

    groups: ClassVar[tuple[type, ...]] = (ActionOptions, Options)


def group_of(ctx: typer.Context, group: type[G]) -> G:
    """The option group *group* of the running command, filled from its command line."""
    found = ctx.meta.get(_key(group))
    if not isinstance(found, group):
        raise TypeError(f"{ctx.command_path}: its command class does not take {group.__name__}")
    return found


def options(ctx: typer.Context) -> Options:
    """The connection and output options of a ``Connected``/``Listing``/``Acting`` command."""
    return group_of(ctx, Options)


def list_query(ctx: typer.Context) -> ListQuery:
    """The ``--select --order-by --count`` of a ``Queried`` command."""
    return group_of(ctx, ListQuery)


def action_options(ctx: typer.Context) -> ActionOptions:
    """The rails of an ``Acting`` command."""
    return group_of(ctx, ActionOptions)
