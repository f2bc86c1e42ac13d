"""Policy-reprint reminders and deductions (2015 §六), on top of :mod:`monitor.policy_carriage`.

A site that has not carried an important policy once the 1-hour target has
passed gets a reminder in its department's chat; once the latest deadline (1
working day) has passed the duty chat is told as well and the unit loses
``points.deductions.missed_policy_reprint``. Reminders are deduplicated per
policy + site + step, deductions per policy + site, so running this every
poll cycle sends each message once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from monitor.config import DedupeSection
from monitor.policy_carriage import STATUS_LABELS, ReprintStatus, SiteStatus, check_all
from playbooks.schema import Playbook
from responders.clocks import duration
from responders.messages import Templates
from responders.outbox import enqueue
from store.models import Item, OutboxMessage


@dataclass
class Timeliness:
    """One unit's policy-reprint record over a period."""

    within_hour: int = 0
    within_deadline: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    @property
    def on_time(self) -> int:
        """Carried by the deadline (1 working day, 2015 §六 最迟不得滞后一个工作日)."""
        return self.within_hour + self.within_deadline

    @property
    def judged(self) -> int:
        return self.on_time + self.late + self.missing

    @property
    def rate(self) -> float | None:
        """The compliance rate: carried within the deadline."""
        return self.on_time / self.judged if self.judged else None

    @property
    def hour_share(self) -> float | None:
        """Beside the rate: the share carried within the 1-hour aim (力争一个小时内)."""
        return self.within_hour / self.judged if self.judged else None


def timeliness(statuses: Mapping[int, list[SiteStatus]]) -> dict[str, Timeliness]:
    """Count each department's statuses across policies."""
    out: dict[str, Timeliness] = {}
    for per_site in statuses.values():
        for s in per_site:
            t = out.setdefault(s.department_key, Timeliness())
            setattr(t, s.status.value, getattr(t, s.status.value) + 1)
    return out


def _title(session: Session, policy_id: int) -> str | None:
    item = session.get(Item, policy_id)
    return (item.title or item.text[:40]) if item else None


def _step(s: SiteStatus, now: dt.datetime) -> str | None:
    if s.breached:
        return "latest"
    if s.status is ReprintStatus.pending and now > s.deadlines.target:
        return "target"
    return None


def _message(s: SiteStatus, step: str, policy_id: int, title: str | None, playbook: Playbook) -> str:
    templates = Templates.of(playbook)
    return templates.reply("policy_reprint", step=step, site=s.source_name, policy=policy_id, title=title,
                           target=duration(playbook.clocks.policy_reprint.target, templates),
                           latest=s.deadlines.latest, carried_at=s.carried_at)


def remind(session: Session, playbook: Playbook, now: dt.datetime, *, since: dt.datetime, duty_chat_id: str | int,
           department_chats: Mapping[str, str | int], dedupe: DedupeSection | None = None) -> list[OutboxMessage]:
    """Queue reminders and breach notices (reported, never turned into points: 2006 §四). Returns new alerts."""
    statuses = check_all(session, playbook, since, now, dedupe)
    alerts: list[OutboxMessage] = []
    for policy_id, per_site in statuses.items():
        title = _title(session, policy_id)
        for s in per_site:
            step = _step(s, now)
            if step is None:
                continue
            chats = [department_chats.get(s.department_key)] + ([duty_chat_id] if step == "latest" else [])
            for chat in dict.fromkeys(c for c in chats if c is not None) or [duty_chat_id]:
                alert = enqueue(session, dedupe_key=f"policy-reprint:{policy_id}:{s.source_id}:{step}:{chat}",
                                kind="policy_reprint", chat_id=chat, now=now, source_id=s.source_id,
                                text=_message(s, step, policy_id, title, playbook))
                if alert is not None:
                    alerts.append(alert)
    session.flush()
    return alerts


STATUS_TEXT = {s: label for s, label in STATUS_LABELS.items()}
