"""Alerts with evidence, grouped into incidents, some with an automated investigation.

Built straight as the store's row tuples (:meth:`AlertStore.insert_rows`): no per-alert dicts,
one ``Random.random()`` per decision, per-machine values prepared once, timestamps from a
:class:`Stamper`, evidence as a seeded recipe (:mod:`mdekit.emulator.defender.evidence`). That keeps
generation near 10 µs an alert; the values and their distributions are those of the API's alerts.

A large seed's rows are compressed by a :class:`ChunkPacker` in the process that inserts them, not
in the one that makes them (:mod:`~mdekit.emulator.defender.seed.pipeline`): making an alert
cost ~16 µs with its compression (~5 µs of it), inserting it ~11 µs, and the two run side by side
on two cores, so the slower one sets the pace (issue 19).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mdekit.emulator.clock import dotnet_stamp
from mdekit.emulator.defender.evidence import RECIPE
from mdekit.emulator.defender.jsonio import dumps
from mdekit.emulator.defender.renderings import (
    DICT_SIZE,
    EVIDENCE_LEVEL,
    RENDERING_LEVEL,
    SAMPLES,
    SEED_SHAPE,
    SMALL_DICT_SIZE,
    Packer,
    train,
)
from mdekit.emulator.incidents.store import incident_row

__all__ = ["AlertFactory", "AlertRows", "ChunkPacker"]

DAY = 86_400
#: Alerts generated (and held in memory) per insert: bounds memory for 1,000,000-alert seeds.
CHUNK = 25_000
_INV_STATES = (
    "SuccessfullyRemediated",
    "Benign",
    "Running",
    "PendingApproval",
    "PartiallyRemediated",
    "TerminatedBySystem",
    "Failed",
)
_ASSIGNED = (None, None, "secops@contoso.com", "API Action")
_NETWORK = frozenset(("CommandAndControl", "Exfiltration", "InitialAccess"))
_INCIDENT_SIZES = (1, 1, 2, 3, 5)
_NO_USER = (None, None, None)
#: Where an alert row (:meth:`AlertStore.insert_rows`) holds ``data``: after tenant and the columns;
#: and its title, which a compressed seed leaves to ``data`` (NULL: ``TITLE_SQL``, alerts.py).
_DATA = 14
_TITLE = _DATA - 1


#: Seeds of this many alerts or more store renderings, evidence and investigations compressed.
#: Reading a compressed rendering costs ~1-3 µs (``GET /api/alerts?$top=100`` answered 0.42x the
#: trivial route's rate instead of 0.56x, wrk, 2,000 alerts): worth it where the bytes matter
#: (1,000,000 alerts: 2.6 GB -> 1.4 GB), not for the small tenants most test suites seed.
COMPRESS_MIN = 100_000


class AlertRows:
    """A chunk of rows for :meth:`AlertStore.insert_rows`, plus the rows of the investigations it
    triggered (:meth:`LookupStore.insert_investigation_rows`) and of its incidents
    (:meth:`IncidentStore.insert_rows`)."""

    def __init__(self) -> None:
        self.alerts: list[tuple[Any, ...]] = []
        self.evidence: list[tuple[int, str, Any]] = []
        self.investigations: list[tuple[Any, ...]] = []
        self.incidents: list[tuple[Any, ...]] = []
        #: Dictionaries a :class:`ChunkPacker` trained on this chunk's values, to save with it.
        self.dictionaries: list[bytes] = []

    def parts(self) -> tuple[Any, ...]:
        """Its lists, in plain types (for ``marshal``, :mod:`~mdekit.emulator.defender.seed.pipeline`)."""
        return (self.alerts, self.evidence, self.investigations, self.incidents, self.dictionaries)

    @classmethod
    def from_parts(cls, parts: tuple[Any, ...]) -> AlertRows:
        """The chunk whose :meth:`parts` these are."""
        out = cls()
        out.alerts, out.evidence, out.investigations, out.incidents, out.dictionaries = parts
        return out


class AlertFactory:
    """Builds alert rows from a generator's machines, users, files and domains."""

    def __init__(
        self,
        gen: Any,
        machines: list[dict[str, Any]],
        users: list[dict[str, Any]],
        links: list[tuple[str, str]],
        files: list[dict[str, Any]],
        domains: list[str],
        templates: tuple[Any, ...],
    ) -> None:
        self.gen, self.rng = gen, gen.rng
        self.files = [(f["sha1"], f["sha256"], f["fileName"]) for f in files]
        self.domains = domains
        self.templates = templates
        by_id = {u["id"]: u for u in users}
        on_machine: dict[str, list[dict[str, Any]]] = {}
        for mid, uid in links:
            on_machine.setdefault(mid, []).append(by_id[uid])
        self.contexts = [_machine_context(m, on_machine.get(m["id"], [])) for m in machines]
        rand = self.rng.randrange
        self.ips = [
            f"{rand(40, 220)}.{rand(256)}.{rand(256)}.{rand(1, 255)}"
            for _ in range(max(10, len(machines) // 10))
        ]
        self.incidents = self.investigations = 0
        #: (kind, value) -> rowids of the alerts naming it, over all chunks (:meth:`AlertStore.add_links`).
        self.links: dict[tuple[str, str], list[int]] = {}
        self.start = self.slot = 0.0
        self.triage: tuple[str | None, str | None] = (None, None)
        self.detectors = [gen.guid() for _ in templates]  # one detector per alert type, as in the service
        self.parts = [_template_parts(t, d) for t, d in zip(templates, self.detectors, strict=True)]
        #: What the rows hold for the tenant: its short key (:mod:`~mdekit.emulator.defender.tenantkeys`;
        #: ``None``: the tenant id). Renderings always name the tenant id (``aadTenantId``).
        self.key: str | None = None

    def make(self, count: int, tenant: str, first_n: int, chunk: int = CHUNK) -> Iterator[AlertRows]:
        """*count* alerts for *tenant* with rowids from *first_n*, in chunks of about *chunk* alerts.

        Incidents of 1-5 alerts on one machine; creation times spread over the last 30 days in
        rowid order (one time slot per alert), so ids and the time index grow with the rowid.
        """
        out, rnd = AlertRows(), self.rng.random
        self.contexts = [(*ctx[:6], *_machine_parts(ctx, tenant)) for ctx in self.contexts]
        tenant = tenant if self.key is None else self.key  # the rows' tenant column from here on
        self.start, self.slot = self.gen.now - 30 * DAY, 30 * DAY / max(count, 1)
        done = 0
        while done < count:
            size = min(count - done, _INCIDENT_SIZES[int(rnd() * 5)])
            ctx = self.contexts[int(rnd() * len(self.contexts))]
            inv_id = 5000 + self.investigations if rnd() < 0.6 else None
            self.investigations += inv_id is not None
            self._incident(out, tenant, first_n + done, done, size, 1000 + self.incidents, inv_id, ctx)
            self.incidents += 1
            done += size
            if len(out.alerts) >= chunk:
                yield out
                out = AlertRows()
        if out.alerts:
            yield out

    def _incident(
        self,
        out: AlertRows,
        tenant: str,
        n: int,
        i: int,
        size: int,
        incident: int,
        inv_id: int | None,
        ctx: Any,
    ) -> None:
        for k in range(size):
            row, inv_state = self._alert(out, tenant, n + k, i + k, incident, inv_id, ctx)
            if k == 0 and inv_id is not None:
                item = _investigation(inv_id, inv_state, row, ctx)
                out.investigations.append(
                    (
                        tenant,
                        item["id"],
                        item["startTime"],
                        item["state"],
                        item["machineId"],
                        item["triggeringAlertId"],
                        dumps(item),
                    )
                )
        out.incidents.append(incident_row(tenant, incident, out.alerts[-size:], self.triage))

    def _alert(
        self, out: AlertRows, tenant: str, n: int, i: int, incident: int, inv_id: int | None, ctx: Any
    ) -> tuple[tuple[Any, ...], str]:
        # The hot loop (once per alert): locals only, evidence inline, orjson called directly.
        rnd, stamp, links, f_resolved = self.rng.random, self.gen.stamp, self.links, _resolved_json
        which = int(rnd() * len(self.templates))
        category, title, _, source, severity, _ = self.templates[which]
        mid, user = ctx[0], ctx[5]
        created = self.start + (i + rnd()) * self.slot
        u = rnd()
        status = "New" if u < 0.55 else ("InProgress" if u < 0.70 else "Resolved")
        resolved = status == "Resolved"
        when, last_event = stamp.pair(created, 30)
        whole = int(created)  # other times: whole seconds away, pooled sub-second parts (cheap)
        if status != "New":
            x = 60 + rnd() * (2 * DAY - 60)
            updated = stamp.at(whole + int(x), x % 1)
        else:
            updated = when
        ticks = int(created * 10_000_000) + 621_355_968_000_000_000 + i
        alert_id = f"da{ticks}_{1_000_000_000 + int(rnd() * 1_147_483_648)}"
        inv_state = _INV_STATES[int(rnd() * 7)] if inv_id else "UnsupportedAlertType"
        classification = ("TruePositive", "FalsePositive")[rnd() < 0.5] if resolved else None
        determination = ("Malware", "Other")[rnd() < 0.5] if resolved else None
        first_event = stamp.at(whole - 60 - int(x := rnd() * 3540), x % 1)
        resolved_at = stamp.at(whole + 3600 + int(x := rnd() * (3 * DAY - 3600)), x % 1) if resolved else None
        assigned = _ASSIGNED[int(rnd() * 4)] if status != "New" else None
        self.triage = (classification, determination)  # the incident's, if this alert is its last
        # ``data``: the alert as a list answer shows it (ALERT_KEYS order - the fidelity suite checks
        # it - .NET times, no evidence), spliced from JSON pieces made once per alert type and per
        # machine: what orjson.dumps of the alert's dict gives (test_seed_generator checks), 2x faster
        severity_json, head, tail, title_esc = self.parts[which]
        machine_head, machine_tail, dns_esc = ctx[6:]
        doc = (
            f'{{"id":"{alert_id}","incidentId":{incident},"investigationId":'
            f'{"null" if inv_id is None else inv_id},"assignedTo":{_JSON[assigned]},'
            f'"severity":{severity_json},"status":"{status}","classification":'
            f'{_JSON[classification]},"determination":{_JSON[determination]},'
            f'"investigationState":"{inv_state}",{head},"description":"{title_esc} on {dns_esc}.",'
            f'"alertCreationTime":"{dotnet_stamp(when)}","firstEventTime":"{dotnet_stamp(first_event)}",'
            f'"lastEventTime":"{dotnet_stamp(last_event)}","lastUpdateTime":"{dotnet_stamp(updated)}",'
            f'"resolvedTime":{f_resolved(resolved_at)},{machine_head},{tail},{machine_tail},'
            '"comments":[],"evidence":[],"domains":[]}'
        )
        row = (
            tenant,
            alert_id,
            incident,
            inv_id,
            assigned,
            source,
            status,
            severity,
            category,
            when,
            updated,
            last_event,
            mid,
            title,
            doc,
            n,
        )
        out.alerts.append(row)
        # evidence: File + Process (+ Ip + Url for network-ish alerts) (+ User), as a recipe
        sha1, sha256, name = self.files[int(rnd() * len(self.files))]
        pid, ppid = 1000 + int(rnd() * 29_000), 500 + int(rnd() * 500)
        ip = url = None
        if category in _NETWORK or rnd() < 0.3:
            ip = self.ips[int(rnd() * len(self.ips))]
            domain = self.domains[int(rnd() * len(self.domains))]
            url = f"https://{domain}/x"
            links.setdefault(("ip", ip), []).append(n)
            links.setdefault(("domain", domain), []).append(n)
        account, upper, sid = user or _NO_USER
        links.setdefault(("file", sha1), []).append(n)
        if account:
            links.setdefault(("user", account), []).append(n)
        recipe = (RECIPE, when, sha1, sha256, name, pid, ppid, ip, url, account, upper, sid)
        out.evidence.append((n, tenant, orjson.dumps(recipe).decode()))
        return row, inv_state


class ChunkPacker:
    """Compresses a seed's chunks (:meth:`AlertFactory.make`) when it has :data:`COMPRESS_MIN`
    alerts or more: the first chunk trains the dictionaries of the renderings, evidence recipes and
    investigations (each when there are enough; kept in that chunk's ``dictionaries``), every chunk
    is compressed with them. Same bytes wherever the chunks were made."""

    #: (list of :class:`AlertRows`, position of the JSON text in its rows, zstd level, dictionary
    #: size, dictionary shape or ``None``: searched - renderings.SEED_SHAPE)
    _PARTS: tuple[tuple[str, int, int, int, tuple[int, int] | None], ...] = (
        ("alerts", _DATA, RENDERING_LEVEL, DICT_SIZE, SEED_SHAPE),
        ("evidence", 2, EVIDENCE_LEVEL, SMALL_DICT_SIZE, None),
        ("investigations", 6, EVIDENCE_LEVEL, SMALL_DICT_SIZE, SEED_SHAPE),
    )

    def __init__(self, count: int) -> None:
        self.compress = count >= COMPRESS_MIN
        self.packers: list[Packer | None] | None = None

    def __call__(self, out: AlertRows) -> AlertRows:
        """*out*, its rows compressed (in place)."""
        if not self.compress:
            return out
        if self.packers is None:
            self.packers = [
                self._train(out, getattr(out, name), at, level, size, shape)
                for name, at, level, size, shape in self._PARTS
            ]
        for (name, at, *_), packer in zip(self._PARTS, self.packers, strict=True):
            if packer is not None:
                rows = getattr(out, name)
                packed = packer.pack_many([r[at] for r in rows])
                # a rendering takes its title along: no title column (~38 bytes an alert, TITLE_SQL)
                cut = _TITLE if name == "alerts" else at
                blank = (None,) * (at - cut)
                setattr(
                    out,
                    name,
                    [(*r[:cut], *blank, p, *r[at + 1 :]) for r, p in zip(rows, packed, strict=True)],
                )
        return out

    @staticmethod
    def _train(
        out: AlertRows,
        rows: list[tuple[Any, ...]],
        at: int,
        level: int,
        size: int,
        shape: tuple[int, int] | None,
    ) -> Packer | None:
        """A packer trained on the JSON text at position *at* of *rows* (its dictionary kept in
        *out*), or ``None`` when there are too few to train on."""
        packer = train([r[at].encode() for r in rows[:SAMPLES]], level, size, shape)
        if packer is not None:
            out.dictionaries.append(packer.dictionary)
        return packer


#: JSON of the seed's optional string values (assignedTo, classification, determination).
_JSON: dict[str | None, str] = {
    v: orjson.dumps(v).decode()
    for v in (None, "secops@contoso.com", "API Action", "TruePositive", "FalsePositive", "Malware", "Other")
}


def _resolved_json(stamp: str | None) -> str:
    return f'"{dotnet_stamp(stamp)}"' if stamp else "null"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _template_parts(template: tuple[Any, ...], detector: str) -> tuple[str, str, str, str]:
    """An alert type's JSON pieces: severity; detectionSource to title; threatName and
    mitreTechniques; the title escaped for the description."""
    category, title, techniques, source, severity, family = template
    head = (
        f'"detectionSource":{_json(source)},"detectorId":{_json(detector)},"category":{_json(category)},'
        f'"threatFamilyName":{_json(family)},"title":{_json(title)}'
    )
    tail = f'"threatName":{_json(family)},"mitreTechniques":{_json(techniques)}'
    return _json(severity), head, tail, _json(title)[1:-1]


def _machine_parts(ctx: tuple[Any, ...], tenant: str) -> tuple[str, str, str]:
    """A machine's JSON pieces: machineId to aadTenantId; relatedUser and loggedOnUsers; its DNS
    name escaped for the description."""
    mid, dns, rbac_name, related, logged_on = ctx[:5]
    head = (
        f'"machineId":{_json(mid)},"computerDnsName":{_json(dns)},"rbacGroupName":{_json(rbac_name)},'
        f'"aadTenantId":{_json(tenant)}'
    )
    return head, f'"relatedUser":{_json(related)},"loggedOnUsers":{_json(logged_on)}', _json(dns)[1:-1]


def _machine_context(m: dict[str, Any], users: list[dict[str, Any]]) -> tuple[Any, ...]:
    """What every alert on machine *m* repeats: ids, names, its users (the first one is related)."""
    logged_on = [{"accountName": u["accountName"], "domainName": u["accountDomain"].upper()} for u in users]
    first = users[0] if users else None
    related = (
        {"userName": first["accountName"], "domainName": first["accountDomain"].upper()} if first else None
    )
    user = (first["accountName"], first["accountDomain"].upper(), first["accountSid"]) if first else None
    return (m["id"], m["computerDnsName"], m["rbacGroupName"], related, logged_on, user)


def _investigation(inv_id: int, state: str, row: tuple[Any, ...], ctx: tuple[Any, ...]) -> dict[str, Any]:
    """The automated investigation an incident's first alert (a row) triggered."""
    running = state in ("Running", "PendingApproval")
    return {
        "id": str(inv_id),
        "startTime": row[9],
        "endTime": None if running else row[10],
        "state": state,
        "cancelledBy": None,
        "statusDetails": None,
        "machineId": ctx[0],
        "computerDnsName": ctx[1],
        "triggeringAlertId": row[1],
    }
