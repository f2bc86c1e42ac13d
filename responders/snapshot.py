"""The policy a case was opened under, frozen into ``Case.rule_snapshot``.

A later edit of the playbook (a shorter deadline, a new escalation step) must
not change cases already in flight, so everything the clocks and the
escalation ladder need is copied here as plain JSON when the case opens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from playbooks.schema import EscalationStep, EscalationTarget, EscalationWhen, Playbook
from playbooks.workdays import WorkClock, WorkingCalendar
from responders.routing import Profile

SNAPSHOT_VERSION = 1


def _seconds(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def _clocks_for(playbook: Playbook, profile: Profile) -> dict[str, Any]:
    clocks = playbook.clocks
    acknowledge = clocks.acknowledge
    first_information: dt.timedelta | None = None
    respond_days = clocks.respond_working_days
    if profile is Profile.rumour:
        acknowledge, first_information = clocks.rumour.acknowledge, clocks.rumour.first_information
    elif profile is Profile.emergency:
        acknowledge, first_information = clocks.emergency.acknowledge, clocks.emergency.first_information
    elif profile is Profile.policy_reprint:
        first_information = clocks.policy_reprint.target
        respond_days = clocks.policy_reprint.latest_working_days
    return {
        "acknowledge_seconds": _seconds(acknowledge),
        "acknowledge_counts": clocks.acknowledge_counts.value,
        "first_information_seconds": _seconds(first_information),
        "respond_working_days": respond_days,
        "respond_extended_working_days": clocks.respond_extended_working_days,
    }


def _step(step: EscalationStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "when": step.when.value,
        "offset_seconds": step.offset.total_seconds(),
        "notify": [t.value for t in step.notify],
        "repeat_every_seconds": _seconds(step.repeat_every),
        "urgent": step.urgent,
    }


def take_snapshot(playbook: Playbook, profile: Profile, *, role: str, reason: str, category: str) -> dict[str, Any]:
    """Everything a case's clocks and escalation need, as JSON."""
    return {
        "version": SNAPSHOT_VERSION,
        "playbook": playbook.name,
        "profile": profile.value,
        "category": category,
        "role": role,
        "reason": reason,
        "timezone": playbook.timezone,
        "office_hours": [playbook.office_hours.start.isoformat(), playbook.office_hours.end.isoformat()],
        "quiet_hours": [playbook.quiet_hours.start.isoformat(), playbook.quiet_hours.end.isoformat()],
        "calendar": {
            "holidays": [d.isoformat() for d in playbook.calendar.holidays],
            "workdays": [d.isoformat() for d in playbook.calendar.workdays],
        },
        "clocks": _clocks_for(playbook, profile),
        "escalation": [_step(s) for s in playbook.escalation],
    }


@dataclass(frozen=True)
class SnapshotStep:
    name: str
    when: EscalationWhen
    offset: dt.timedelta
    notify: tuple[EscalationTarget, ...]
    repeat_every: dt.timedelta | None
    urgent: bool


@dataclass(frozen=True)
class Rules:
    """Typed view of a snapshot."""

    profile: Profile
    tz: ZoneInfo
    quiet_start: dt.time
    quiet_end: dt.time
    acknowledge: dt.timedelta
    acknowledge_counts: str  # office_hours | calendar
    first_information: dt.timedelta | None
    respond_working_days: int
    respond_extended_working_days: int
    steps: tuple[SnapshotStep, ...]
    clock: WorkClock

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> Rules:
        tz = ZoneInfo(snapshot["timezone"])
        office = [dt.time.fromisoformat(t) for t in snapshot["office_hours"]]
        cal = snapshot["calendar"]
        calendar = WorkingCalendar.from_dates(
            [dt.date.fromisoformat(d) for d in cal["holidays"]],
            [dt.date.fromisoformat(d) for d in cal["workdays"]],
        )
        clocks = snapshot["clocks"]
        fi = clocks["first_information_seconds"]
        return cls(
            profile=Profile(snapshot["profile"]),
            tz=tz,
            quiet_start=dt.time.fromisoformat(snapshot["quiet_hours"][0]),
            quiet_end=dt.time.fromisoformat(snapshot["quiet_hours"][1]),
            acknowledge=dt.timedelta(seconds=clocks["acknowledge_seconds"]),
            acknowledge_counts=clocks.get("acknowledge_counts", "calendar"),
            first_information=None if fi is None else dt.timedelta(seconds=fi),
            respond_working_days=clocks["respond_working_days"],
            respond_extended_working_days=clocks["respond_extended_working_days"],
            steps=tuple(_typed_step(s) for s in snapshot["escalation"]),
            clock=WorkClock(calendar, office[0], office[1], tz),
        )


def acknowledge_due(rules: Rules, notified: dt.datetime) -> dt.datetime:
    """签收 deadline from the notice: in office time or around the clock, as the playbook says.

    Rumour and emergency cases run around the clock whatever the setting (第一时间).
    """
    if rules.acknowledge_counts == "office_hours" and rules.profile is Profile.ordinary:
        return rules.clock.due_in_office_hours(notified, rules.acknowledge)
    return rules.clock.due_in(notified, rules.acknowledge)


def _typed_step(raw: dict[str, Any]) -> SnapshotStep:
    repeat = raw.get("repeat_every_seconds")
    return SnapshotStep(
        name=raw["name"],
        when=EscalationWhen(raw["when"]),
        offset=dt.timedelta(seconds=raw["offset_seconds"]),
        notify=tuple(EscalationTarget(t) for t in raw["notify"]),
        repeat_every=None if repeat is None else dt.timedelta(seconds=repeat),
        urgent=bool(raw.get("urgent", False)),
    )
