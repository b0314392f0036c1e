"""Activity on the virtual clock: a tenant that keeps living while a sync watches it (issue 20).

A plan (:class:`ActivityPlan`) gives hourly rates and a seed. Virtual time is cut into one-minute
*ticks*; each tick of each tenant draws its events from its own random stream, seeded by
``(seed, tenant domain, tick)``: new alerts (some joining an open incident, which then grows), status and
classification changes of open alerts, machines appearing, machines checking in (``lastSeen``) and
machines going stale (``healthStatus`` ``Inactive``). Every record written carries the tick's time,
never the clock's, so the data after moving the clock by a week is the same whether the week was
applied in one step or in 10,000: a sync can be tested over simulated weeks in seconds, and its
result compared with the emulator's own data.

:func:`catch_up` applies the ticks between the last applied one and the clock's current minute; the
control plane calls it after every clock change (``POST /_emulator/clock``) and on demand. A clock moved
in-process (``state.clock.advance``) defers the events until then: they arrive late, stamped with
their tick's time, as delayed updates do.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from mdekit.emulator.clock import format_odata_time
from mdekit.emulator.defender.alerts import READ_COLUMNS, alert_from_row
from mdekit.emulator.defender.seed.generator import _Gen
from mdekit.emulator.defender.tenantkeys import tenant_cond

__all__ = ["RATES", "TICK", "ActivityPlan", "catch_up", "load_plan", "save_plan"]

#: One tick of virtual time (seconds).
TICK = 60
#: The most ticks one catch-up applies per tenant (31 days): a clock jumped by years answers at
#: once, the older ticks of that jump are skipped, not queued.
MAX_TICKS = 31 * 24 * 60
#: Rate names (events per virtual hour, per tenant) and their defaults.
RATES: dict[str, float] = {
    "alerts": 6.0,  # new alerts
    "alertUpdates": 4.0,  # status / classification / assignment changes of open alerts
    "machines": 0.5,  # machines onboarded
    "machineCheckins": 30.0,  # an active machine reports in: lastSeen moves
    "machinesStale": 0.25,  # an active machine stops reporting: healthStatus Inactive
}
#: Largest accepted rate (events per hour per tenant): 10 a second.
MAX_RATE = 36_000.0
_META = "activity_plan"


@dataclass
class ActivityPlan:
    """What the generator does: rates per hour, seed, tenants (``None``: all with data), progress."""

    seed: int = 0
    rates: dict[str, float] = field(default_factory=lambda: dict(RATES))
    #: Probability that a new alert joins an open incident of its machine instead of opening one.
    incidentGrowth: float = 0.3
    tenants: list[str] | None = None
    #: The last tick applied (epoch seconds // TICK); the plan starts at the clock's minute.
    appliedTick: int = 0
    #: Events applied so far, by kind.
    applied: dict[str, int] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The plan as the control plane shows it."""
        out = asdict(self)
        out["appliedThrough"] = format_odata_time_s(self.appliedTick * TICK)
        return out


def format_odata_time_s(seconds: float) -> str:
    """Epoch seconds in the service's time format."""
    from datetime import UTC, datetime

    return format_odata_time(datetime.fromtimestamp(seconds, UTC))


def load_plan(state: Any) -> ActivityPlan | None:
    """The stored plan, or ``None`` when no activity is configured."""
    raw = state.db.get_meta(_META)
    return ActivityPlan(**raw) if isinstance(raw, dict) else None


def save_plan(state: Any, plan: ActivityPlan | None) -> None:
    """Store (or with ``None`` remove) the plan; it survives an emulator restart."""
    if plan is None:
        with state.db.tx() as c:
            c.execute("DELETE FROM meta WHERE key = ?", (_META,))
    else:
        state.db.set_meta(_META, asdict(plan))


def _tenants(state: Any, plan: ActivityPlan) -> list[str]:
    if plan.tenants is not None:
        return list(plan.tenants)
    rows = state.db.query("SELECT DISTINCT tenant FROM def_machines ORDER BY tenant")
    return [r["tenant"] for r in rows]


def catch_up(state: Any) -> dict[str, int]:
    """Apply every tick up to the clock's current minute; returns the events applied by kind."""
    plan = load_plan(state)
    if plan is None:
        return {}
    now_tick = int(state.clock.time() // TICK)
    if now_tick <= plan.appliedTick:
        return {}
    first = max(plan.appliedTick + 1, now_tick - MAX_TICKS + 1)
    done: dict[str, int] = {}
    tenants = _tenants(state, plan)
    with state.db.tx() as conn:
        for tenant in tenants:
            world = _World(state, conn, tenant, plan)
            for tick in range(first, now_tick + 1):
                world.tick(tick, done)
        plan.appliedTick = now_tick
        for kind, n in done.items():
            plan.applied[kind] = plan.applied.get(kind, 0) + n
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_META, _json(asdict(plan))),
        )
    return done


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth; means here are small: events per minute)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


_STATUS_STEPS = {"New": ("InProgress", "Resolved"), "InProgress": ("Resolved",)}
_CLASSIFY = (("TruePositive", "Malware"), ("FalsePositive", "Other"), ("TruePositive", "SecurityTesting"))
_OWNERS = ("secops@contoso.com", "analyst@contoso.com", "API Action")


class _World:
    """One tenant's data as the generator changes it, inside the catch-up transaction."""

    def __init__(self, state: Any, conn: Any, tenant: str, plan: ActivityPlan) -> None:
        self.state, self.conn, self.tenant, self.plan = state, conn, tenant, plan
        self.defender = state.defender
        # The random streams key on the tenant's domain, not its GUID (random at creation): the same
        # seed over the same tenants gives the same activity in every run.
        info = state.directory.find_tenant(tenant)
        self.key = info.domain if info is not None else tenant
        self._gen: _Gen | None = None
        self._ranges: dict[str, tuple[Any, Any]] = {}

    def tick(self, tick: int, done: dict[str, int]) -> None:
        rng = random.Random(f"mdekit-activity:{self.plan.seed}:{self.key}:{tick}")
        t = tick * TICK + rng.random() * TICK * 0.5  # events of a tick fall in its first half
        rates = self.plan.rates
        for kind, action in (
            ("machines", self._new_machine),
            ("machineCheckins", self._checkin),
            ("machinesStale", self._stale),
            ("alerts", self._new_alert),
            ("alertUpdates", self._update_alert),
        ):
            for _ in range(_poisson(rng, rates.get(kind, 0.0) / 60.0)):
                if action(rng, t):
                    done[kind] = done.get(kind, 0) + 1
                t += 0.001 + rng.random() * 0.01  # distinct, increasing times within the tick

    # -- picks ------------------------------------------------------------------------------------
    def _pick(self, rng: random.Random, table: str, where: str = "") -> Any:
        """A random row's ``n`` among the tenant's rows of *table* matching *where* (``None`` if none).

        The first match at or after a random rowid in the tenant's range: an index seek, not a
        count and an offset over the table (the generator picks thousands of times a simulated day).
        """
        if table not in self._ranges:
            lo, hi = self.conn.execute(
                f"SELECT MIN(n), MAX(n) FROM {table} WHERE {tenant_cond(table)}", (self.tenant,)
            ).fetchone()
            self._ranges[table] = (lo, hi)
        lo, hi = self._ranges[table]
        if lo is None:
            return None
        target = lo + int(rng.random() * (hi - lo + 1))
        cond = tenant_cond(table)
        sql = f"SELECT n FROM {table} NOT INDEXED WHERE n >= ? AND {cond} {where} ORDER BY n LIMIT 1"
        row = self.conn.execute(sql, (target, self.tenant)).fetchone()
        if row is None:
            row = self.conn.execute(sql, (lo, self.tenant)).fetchone()
        return row[0] if row else None

    def _grew(self, table: str) -> None:
        """A row was inserted into *table* for this tenant: its range ends at the newest rowid."""
        self._ranges.pop(table, None)

    def _machine(self, n: int) -> dict[str, Any]:
        from mdekit.emulator.defender.jsonio import loads

        row = self.conn.execute("SELECT data FROM def_machines WHERE n = ?", (n,)).fetchone()
        machine: dict[str, Any] = loads(row[0])
        return machine

    # -- machines ---------------------------------------------------------------------------------
    def _new_machine(self, rng: random.Random, t: float) -> bool:
        if self._gen is None:  # built once per catch-up: its time-stamp pool is costly to draw
            self._gen = _Gen(self.tenant, self.plan.seed, t)
        gen = self._gen
        gen.rng, gen.now = rng, t
        count = self.conn.execute("SELECT COUNT(*) FROM def_machines WHERE tenant = ?", (self.tenant,))
        machine = gen.machine(int(count.fetchone()[0]))
        stamp = format_odata_time_s(t)
        machine.update(healthStatus="Active", lastSeen=stamp, firstSeen=stamp)
        self.defender.machines.insert_many(self.conn, self.tenant, [machine])
        self._grew("def_machines")
        return True

    def _checkin(self, rng: random.Random, t: float) -> bool:
        n = self._pick(rng, "def_machines", "AND health_status = 'Active'")
        if n is None:
            return False
        machine = self._machine(n)
        machine["lastSeen"] = format_odata_time_s(t)
        self.defender.machines.save(self.tenant, machine)
        return True

    def _stale(self, rng: random.Random, t: float) -> bool:
        n = self._pick(rng, "def_machines", "AND health_status = 'Active'")
        if n is None:
            return False
        machine = self._machine(n)
        machine["healthStatus"] = "Inactive"  # lastSeen stays: the machine stopped reporting then
        self.defender.machines.save(self.tenant, machine)
        return True

    # -- alerts and incidents ---------------------------------------------------------------------
    def _new_alert(self, rng: random.Random, t: float) -> bool:
        n = self._pick(rng, "def_alerts")
        if n is None:
            return False
        row = self.conn.execute(f"SELECT {READ_COLUMNS} FROM def_alerts WHERE n = ?", (n,)).fetchone()
        template = alert_from_row(row)
        evidence = self.defender.alerts.evidence_by_n([n]).get(n, [])
        stamp = format_odata_time_s(t)
        ticks = int(t * 10_000_000) + 621_355_968_000_000_000
        alert = {
            **template,
            "id": f"da{ticks}_{1_000_000_000 + int(rng.random() * 1_147_483_648)}",
            "status": "New",
            "classification": None,
            "determination": None,
            "assignedTo": None,
            "resolvedTime": None,
            "alertCreationTime": stamp,
            "lastUpdateTime": stamp,
            "firstEventTime": format_odata_time_s(t - 60 - rng.random() * 600),
            "lastEventTime": format_odata_time_s(t - rng.random() * 60),
            "comments": [],
            "evidence": [],
        }
        open_incident = self.conn.execute(
            "SELECT id FROM def_incidents WHERE tenant = tk(?) AND status = 'Active' AND id IN "
            "(SELECT incident_id FROM def_alerts WHERE tenant = tk(?) AND machine_id = ?) "
            "ORDER BY id DESC LIMIT 1",
            (self.tenant, self.tenant, alert["machineId"]),
        ).fetchone()
        incidents = self.defender.incidents
        if open_incident is not None and rng.random() < self.plan.incidentGrowth:
            alert["incidentId"] = int(open_incident[0])
        else:
            incidents.create(self.conn, self.tenant, [alert])
            self.conn.execute(
                "UPDATE def_incidents SET last_update_time = ? WHERE tenant = tk(?) AND id = ?",
                (stamp, self.tenant, alert["incidentId"]),
            )
        self.defender.alerts.insert_many(self.conn, self.tenant, [(alert, evidence)])
        self._grew("def_alerts")
        if open_incident is not None and alert["incidentId"] == int(open_incident[0]):
            # the incident grows: severity recomputed, lastUpdateTime never moves back
            held = self.conn.execute(
                "SELECT last_update_time FROM def_incidents WHERE tenant = tk(?) AND id = ?",
                (self.tenant, alert["incidentId"]),
            ).fetchone()[0]
            incidents._settle(self.conn, self.tenant, alert["incidentId"], None, max(held, stamp))
        return True

    def _update_alert(self, rng: random.Random, t: float) -> bool:
        n = self._pick(rng, "def_alerts", "AND status != 'Resolved'")
        if n is None:
            return False
        row = self.conn.execute(f"SELECT {READ_COLUMNS} FROM def_alerts WHERE n = ?", (n,)).fetchone()
        alert = alert_from_row(row)
        # The seed may date an update up to two days after its alert's creation, past the clock;
        # a record's lastUpdateTime never moves back.
        stamp = max(format_odata_time_s(t), alert["lastUpdateTime"] or "")
        status = rng.choice(_STATUS_STEPS[alert["status"]])
        alert["status"] = status
        if alert["assignedTo"] is None:
            alert["assignedTo"] = rng.choice(_OWNERS)
        if status == "Resolved":
            alert["classification"], alert["determination"] = rng.choice(_CLASSIFY)
            alert["resolvedTime"] = stamp
        alert["lastUpdateTime"] = stamp
        self.defender.alerts.save(self.tenant, alert)  # also moves its incident's lastUpdateTime
        return True
