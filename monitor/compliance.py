"""Policy-reprint compliance (2015 §六): did every subordinate site carry the policy in time?

An item from a State Council or provincial portal source that matches the
playbook's ``important_policy`` rules starts a clock for every subordinate
government site among the sources (a source linked to a department of one of
``site_kinds``). Each must carry the policy — a near-duplicate or a link —
within ``clocks.policy_reprint.target`` (1 hour), at the latest
``latest_working_days`` (1 working day, on the official calendar).

The decision (:func:`site_status`) is pure; :func:`check_policy` is the thin
store query around it. Reminders and deductions are the responders' job.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from classifiers.signatures import match_basis
from monitor.carrying import Text, carries, host_of
from monitor.config import DedupeSection
from monitor.store.models import Department, Item, Source
from playbooks.schema import ImportantPolicy, Playbook
from playbooks.workdays import WorkClock


class ComplianceError(Exception):
    """The playbook lacks what the compliance check needs; the message names the section."""


class ReprintStatus(str, Enum):
    on_time = "on_time"  # carried within the target (1 hour)
    late = "late"  # carried, but after the target
    pending = "pending"  # not carried yet, the latest deadline has not passed
    missing = "missing"  # not carried and the latest deadline has passed


STATUS_LABELS = {
    ReprintStatus.on_time: "按时转载",
    ReprintStatus.late: "迟转载",
    ReprintStatus.pending: "待转载",
    ReprintStatus.missing: "未转载",
}


@dataclass(frozen=True)
class Deadlines:
    target: dt.datetime
    latest: dt.datetime


@dataclass(frozen=True)
class Candidate:
    """An item on a subordinate site that might carry the policy."""

    item_id: int
    at: dt.datetime
    text: Text


@dataclass(frozen=True)
class SiteStatus:
    """One site's standing on one policy."""

    policy_item_id: int
    source_id: int
    source_name: str
    department_key: str
    status: ReprintStatus
    deadlines: Deadlines
    carried_at: dt.datetime | None = None
    carried_item_id: int | None = None
    method: str | None = None

    @property
    def breached(self) -> bool:
        """Missed the latest deadline: carried after it, or not at all once it passed."""
        if self.status is ReprintStatus.missing:
            return True
        return self.carried_at is not None and self.carried_at > self.deadlines.latest


def rules_of(playbook: Playbook) -> ImportantPolicy:
    if playbook.important_policy is None:
        raise ComplianceError("playbook has no important_policy section: add sources and keywords (2015 §六)")
    return playbook.important_policy


def is_important_policy(title: str, source_name: str, url: str | None, rules: ImportantPolicy) -> bool:
    """From a policy source (by name or host) and titled like a policy (keyword or pattern)."""
    host = host_of(url)
    from_policy_source = source_name in rules.source_names or any(
        host == h.lower() or host.endswith("." + h.lower()) for h in rules.hosts
    )
    if not from_policy_source:
        return False
    title = title.strip()
    return any(k in title for k in rules.keywords) or any(re.search(p, title) for p in rules.title_patterns)


def deadlines(published_at: dt.datetime, playbook: Playbook) -> Deadlines:
    """Target (1 hour, elapsed) and latest (N working days) for carrying a policy."""
    clock = WorkClock.from_playbook(playbook)
    rule = playbook.clocks.policy_reprint
    return Deadlines(clock.due_in(published_at, rule.target),
                     clock.due_in_working_days(published_at, rule.latest_working_days))


def site_status(policy: Text, published_at: dt.datetime, candidates: Sequence[Candidate], due: Deadlines,
                now: dt.datetime, dedupe: DedupeSection) -> tuple[ReprintStatus, Candidate | None, str | None]:
    """The site's status: its earliest item carrying the policy, judged against the deadlines."""
    for cand in sorted(candidates, key=lambda c: (c.at, c.item_id)):
        if cand.at < published_at:
            continue
        found = carries(policy, cand.text, dedupe)
        if found is not None:
            status = ReprintStatus.on_time if cand.at <= due.target else ReprintStatus.late
            return status, cand, found.method
    return (ReprintStatus.missing if now > due.latest else ReprintStatus.pending), None, None


# --------------------------------------------------------------------------- store queries


def item_time(item: Item) -> dt.datetime:
    return item.published_at or item.fetched_at


def item_text(item: Item, dedupe: DedupeSection) -> Text:
    """The matching view of a stored item, on the same basis as the pipeline's signatures."""
    return Text(item.url, match_basis(item.title, item.text, dedupe.min_chars), None, item.raw)


def important_policies(session: Session, playbook: Playbook, since: dt.datetime,
                       until: dt.datetime) -> list[Item]:
    """Policy items published in [since, until) from the playbook's policy sources."""
    rules = rules_of(playbook)
    rows = session.execute(
        select(Item, Source).join(Source, Item.source_id == Source.id)
        .where(or_(Item.published_at.is_(None), Item.published_at < until))
        .where(or_(Item.published_at >= since, Item.published_at.is_(None) & (Item.fetched_at >= since)))
        .order_by(Item.id)
    ).all()
    return [item for item, source in rows
            if item_time(item) < until and is_important_policy(item.title, source.name, item.url or source.url, rules)]


def subordinate_sites(session: Session, playbook: Playbook, exclude_source_id: int | None = None) -> list[Source]:
    """Enabled sources run by a unit of one of the playbook's ``site_kinds``."""
    kinds = [k.value for k in rules_of(playbook).site_kinds]
    rows = session.scalars(
        select(Source).join(Department, Source.department_key == Department.key)
        .where(Department.kind.in_(kinds), Source.enabled.is_(True)).order_by(Source.name)
    )
    return [s for s in rows if s.id != exclude_source_id]


def _candidates(session: Session, source_id: int, since: dt.datetime, dedupe: DedupeSection) -> list[Candidate]:
    items = session.scalars(select(Item).where(Item.source_id == source_id)
                            .where(or_(Item.published_at >= since, Item.fetched_at >= since)))
    return [Candidate(i.id, item_time(i), item_text(i, dedupe)) for i in items]


def check_policy(session: Session, policy: Item, playbook: Playbook, now: dt.datetime,
                 dedupe: DedupeSection | None = None) -> list[SiteStatus]:
    """Per-site status of one policy item for every subordinate site."""
    dedupe = dedupe or DedupeSection()
    published = item_time(policy)
    due = deadlines(published, playbook)
    original = item_text(policy, dedupe)
    result = []
    for site in subordinate_sites(session, playbook, exclude_source_id=policy.source_id):
        status, cand, method = site_status(original, published, _candidates(session, site.id, published, dedupe),
                                           due, now, dedupe)
        result.append(SiteStatus(policy.id, site.id, site.name, site.department_key or "", status, due,
                                 cand.at if cand else None, cand.item_id if cand else None, method))
    return result


def check_all(session: Session, playbook: Playbook, since: dt.datetime, now: dt.datetime,
              dedupe: DedupeSection | None = None) -> dict[int, list[SiteStatus]]:
    """Statuses of every important policy published since *since*, keyed by policy item id."""
    return {p.id: check_policy(session, p, playbook, now, dedupe)
            for p in important_policies(session, playbook, since, now)}
