"""Policy-reprint compliance (2015 §六): did every subordinate site carry the policy in time?

An item from a State Council or provincial portal source issued by one of the
playbook's ``important_policy.issuers`` (its 发文字号 such as 国发〔2026〕3号, or a
title 「国务院关于…」) starts a clock for the subordinate government sites that
must carry it: every site of ``site_kinds`` for a policy of general import; for
a policy of one sector (``sectors``) only that sector's departments' sites, and
for a policy naming a city or county only that region's sites (§六 相关行业和地区
政府网站). Each must carry the policy — a near-duplicate or a link — and §六 says
力争一个小时内, 最迟不得滞后一个工作日: one hour is the aim
(``clocks.policy_reprint.target``), one working day the deadline
(``latest_working_days``). A reprint at +2 h on a working day is within the deadline.

The decision (:func:`site_status`) is pure; :func:`check_policy` is the thin
store query around it. Reminders and deductions are the responders' job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from classifiers.signals import find_places, policy_sectors, policy_signal
from classifiers.signatures import match_basis
from monitor.carrying import Text, carries, host_of
from monitor.errors import ComplianceError
from playbooks.schema import ImportantPolicy, Playbook
from playbooks.workdays import WorkClock
from store.models import Department, Item, Source

if TYPE_CHECKING:  # a type only: the sources file's schema pulls in httpx and bs4
    from monitor.config import DedupeSection


class ReprintStatus(str, Enum):
    within_hour = "within_hour"  # carried within the aim (1 hour)
    within_deadline = "within_deadline"  # carried after the aim but by the deadline (1 working day)
    late = "late"  # carried after the deadline
    pending = "pending"  # not carried yet, the deadline has not passed
    missing = "missing"  # not carried and the deadline has passed


STATUS_LABELS = {
    ReprintStatus.within_hour: "一小时内转载",
    ReprintStatus.within_deadline: "时限内转载",
    ReprintStatus.late: "逾期转载",
    ReprintStatus.pending: "待转载",
    ReprintStatus.missing: "未转载",
}
IN_TIME = frozenset({ReprintStatus.within_hour, ReprintStatus.within_deadline})


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


def is_important_policy(title: str, text: str, source_name: str, url: str | None, rules: ImportantPolicy) -> bool:
    """From a policy source (by name or host) and issued by one of the playbook's issuers."""
    host = host_of(url)
    from_policy_source = source_name in rules.source_names or any(
        host == h.lower() or host.endswith("." + h.lower()) for h in rules.hosts
    )
    return from_policy_source and policy_signal(title, text, rules) is not None


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
            if cand.at <= due.target:
                status = ReprintStatus.within_hour
            elif cand.at <= due.latest:
                status = ReprintStatus.within_deadline
            else:
                status = ReprintStatus.late
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
    """Policy items published in [since, until) from the playbook's policy sources.

    The database keeps only items from a policy source (by name) or whose address names a policy host
    (a superset of :func:`is_important_policy`'s host rule), so two weeks of a busy store are never
    loaded as rows to find the few policies among them; the exact rules then run on those.
    """
    rules = rules_of(playbook)
    address = func.lower(func.coalesce(func.nullif(Item.url, ""), Source.url))
    maybe_policy = or_(false(), Source.name.in_(rules.source_names),
                       *(address.contains(h.lower(), autoescape=True) for h in rules.hosts))
    rows = session.execute(
        select(Item, Source).join(Source, Item.source_id == Source.id)
        .where(or_(Item.published_at.is_(None), Item.published_at < until))
        .where(or_(Item.published_at >= since, Item.published_at.is_(None) & (Item.fetched_at >= since)))
        .where(maybe_policy)
        .order_by(Item.id)
    ).all()
    return [item for item, source in rows
            if item_time(item) < until
            and is_important_policy(item.title, item.text, source.name, item.url or source.url, rules)]


def concerned_units(title: str, playbook: Playbook) -> set[str] | None:
    """Units whose sites must carry a policy titled *title*: a sector's departments, a region's
    governments (a city with its counties), or None for a policy every site must carry."""
    rules = rules_of(playbook)
    units: set[str] = set()
    for sector in policy_sectors(title, rules):
        units.update(rules.sectors[sector].departments)
    for _, key in find_places(title, playbook):
        units.add(key)
        units.update(k for k, d in playbook.departments.items() if d.parent == key)
    return units or None


def subordinate_sites(session: Session, playbook: Playbook, exclude_source_id: int | None = None,
                      units: set[str] | None = None) -> list[Source]:
    """Enabled sources run by a unit of one of the playbook's ``site_kinds`` (only *units*, when given)."""
    kinds = [k.value for k in rules_of(playbook).site_kinds]
    rows = session.scalars(
        select(Source).join(Department, Source.department_key == Department.key)
        .where(Department.kind.in_(kinds), Source.enabled.is_(True)).order_by(Source.name)
    )
    return [s for s in rows if s.id != exclude_source_id and (units is None or s.department_key in units)]


def _candidates(session: Session, source_id: int, since: dt.datetime, dedupe: DedupeSection) -> list[Candidate]:
    items = session.scalars(select(Item).where(Item.source_id == source_id)
                            .where(or_(Item.published_at >= since, Item.fetched_at >= since)))
    return [Candidate(i.id, item_time(i), item_text(i, dedupe)) for i in items]


def check_policy(session: Session, policy: Item, playbook: Playbook, now: dt.datetime,
                 dedupe: DedupeSection | None = None) -> list[SiteStatus]:
    """Per-site status of one policy item for every subordinate site."""
    dedupe = dedupe or default_dedupe()
    published = item_time(policy)
    due = deadlines(published, playbook)
    original = item_text(policy, dedupe)
    result = []
    units = concerned_units(policy.title or "", playbook)
    for site in subordinate_sites(session, playbook, exclude_source_id=policy.source_id, units=units):
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


def default_dedupe() -> DedupeSection:
    """The sources file's default near-duplicate settings (imported here: the schema module pulls in httpx
    and bs4, which a command that only reads the store does not need)."""
    from monitor.config import DedupeSection

    return DedupeSection()
