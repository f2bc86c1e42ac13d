"""Spread: how far a rumour reached, how far its clarification reached, and when the event may close.

Reach of one item = its site weight (major 1.0 / other 0.5, the 2006 §四
weighting) + the playbook's per-repost, per-comment and per-like weights times
its engagement. Coverage = clarification reach / rumour reach: the event's
residual risk falls as coverage rises, and the event closes once coverage
passes ``spread.coverage_threshold`` and no new rumour item arrived for
``spread.quiet_period``. Engagement is the latest count the monitor stored, so
curves place each item's whole reach at the time it appeared.

The maths is pure (plain :class:`Contribution` values in, numbers out); the
functions at the bottom are the thin store layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.carrying import host_of
from monitor.policy_carriage import item_time
from playbooks.schema import Playbook, SpreadPolicy
from responders.errors import ResponderError
from store.models import Clarification, Event, Item, Reprint, Source

CLOSED_STATES = frozenset({"closed", "ignored", "dismissed"})


class SpreadError(ResponderError):
    """Spread cannot be computed (e.g. the playbook has no spread section)."""


@dataclass(frozen=True)
class Contribution:
    """One item's reach at the time it appeared."""

    at: dt.datetime
    reach: float


@dataclass(frozen=True)
class Bucket:
    """One point of the two curves: reach added in the bucket and cumulative totals."""

    start: dt.datetime
    rumour: float
    clarification: float
    rumour_total: float
    clarification_total: float

    @property
    def coverage(self) -> float | None:
        return coverage(self.clarification_total, self.rumour_total)


@dataclass(frozen=True)
class EventSpread:
    event_id: int
    buckets: list[Bucket]
    rumour_total: float
    clarification_total: float
    coverage: float | None
    risk: float
    last_rumour_at: dt.datetime | None
    closable: bool


def policy_of(playbook: Playbook) -> SpreadPolicy:
    if playbook.spread is None:
        raise SpreadError("playbook has no spread section (coverage_threshold, quiet_period, bucket, weights)")
    return playbook.spread


# --------------------------------------------------------------------------- pure


def item_reach(site_weight: float, reposts: int, comments: int, likes: int, policy: SpreadPolicy) -> float:
    """Site weight plus weighted engagement."""
    return (site_weight + policy.repost_weight * max(reposts, 0) + policy.comment_weight * max(comments, 0)
            + policy.like_weight * max(likes, 0))


def coverage(clarification_total: float, rumour_total: float) -> float | None:
    """Clarification reach over rumour reach; ``None`` while the rumour has no reach."""
    if rumour_total <= 0:
        return None
    return clarification_total / rumour_total


def risk(heat: float, cover: float | None) -> float:
    """Residual risk: the event's heat, reduced in proportion to coverage (nil at full coverage)."""
    return heat * (1.0 - min(cover or 0.0, 1.0))


def floor_to(moment: dt.datetime, start: dt.datetime, width: dt.timedelta) -> dt.datetime:
    return start + width * ((moment - start) // width)


def buckets(rumour: Sequence[Contribution], clarification: Sequence[Contribution], start: dt.datetime,
            end: dt.datetime, width: dt.timedelta) -> list[Bucket]:
    """Both curves on the same grid from *start* to *end* (earlier items count in the first bucket)."""
    if width <= dt.timedelta(0):
        raise SpreadError("spread.bucket must be positive")
    count = max(1, -(-(end - start) // width))
    added_r, added_c = [0.0] * count, [0.0] * count
    for series, added in ((rumour, added_r), (clarification, added_c)):
        for c in series:
            index = min(max((c.at - start) // width, 0), count - 1)
            added[index] += c.reach
    out, total_r, total_c = [], 0.0, 0.0
    for i in range(count):
        total_r += added_r[i]
        total_c += added_c[i]
        out.append(Bucket(start + width * i, added_r[i], added_c[i], total_r, total_c))
    return out


def closable(cover: float | None, last_rumour_at: dt.datetime | None, now: dt.datetime,
             policy: SpreadPolicy) -> bool:
    """Coverage past the threshold and a quiet spell with no new rumour item."""
    if cover is None or cover < policy.coverage_threshold:
        return False
    return last_rumour_at is None or now - last_rumour_at >= policy.quiet_period


def summarise(event_id: int, heat: float, rumour: Sequence[Contribution], clarification: Sequence[Contribution],
              start: dt.datetime, now: dt.datetime, policy: SpreadPolicy) -> EventSpread:
    grid = buckets(rumour, clarification, floor_to(start, start, policy.bucket), now, policy.bucket)
    total_r = sum(c.reach for c in rumour)
    total_c = sum(c.reach for c in clarification)
    cover = coverage(total_c, total_r)
    last = max((c.at for c in rumour), default=None)
    return EventSpread(event_id, grid, total_r, total_c, cover, risk(heat, cover), last,
                       closable(cover, last, now, policy))


# --------------------------------------------------------------------------- store layer


def _weight(item: Item, source: Source, playbook: Playbook) -> float:
    host = host_of(item.url) or source.host or host_of(source.url)
    return playbook.source_weights.weight(host, source.weight_class)


def _reach(item: Item, weight: float, policy: SpreadPolicy) -> Contribution:
    return Contribution(item_time(item), item_reach(weight, item.reposts, item.comments, item.likes, policy))


def clarification_items(session: Session, event_id: int) -> tuple[list[Clarification], set[int]]:
    """The event's approved clarifications and the ids of their own items and reprints."""
    rows = list(session.scalars(select(Clarification).where(Clarification.event_id == event_id,
                                                            Clarification.state == "approved")))
    ids = {r.item_id for r in rows if r.item_id is not None}
    if rows:
        ids |= set(session.scalars(select(Reprint.reprint_id)
                                   .where(Reprint.clarification_id.in_([r.id for r in rows]))))
    return rows, ids


def contributions(session: Session, event: Event, playbook: Playbook) -> tuple[list[Contribution], list[Contribution]]:
    """(rumour, clarification) contributions of one event from the store."""
    policy = policy_of(playbook)
    rows, clar_ids = clarification_items(session, event.id)
    rumour = [_reach(item, _weight(item, source, playbook), policy)
              for item, source in session.execute(select(Item, Source).join(Source, Item.source_id == Source.id)
                                                  .where(Item.event_id == event.id))
              if item.id not in clar_ids]
    clar: list[Contribution] = []
    for item, source in session.execute(select(Item, Source).join(Source, Item.source_id == Source.id)
                                        .where(Item.id.in_([r.item_id for r in rows if r.item_id]))):
        clar.append(_reach(item, _weight(item, source, playbook), policy))
    if rows:
        for reprint, item in session.execute(select(Reprint, Item).join(Item, Reprint.reprint_id == Item.id)
                                             .where(Reprint.clarification_id.in_([r.id for r in rows]))):
            clar.append(_reach(item, reprint.weight, policy))
    return rumour, clar


def event_spread(session: Session, event: Event, playbook: Playbook, now: dt.datetime) -> EventSpread:
    rumour, clar = contributions(session, event, playbook)
    return summarise(event.id, event.heat, rumour, clar, event.first_seen_at, now, policy_of(playbook))


def is_rumour_event(session: Session, event: Event, playbook: Playbook) -> bool:
    """A suspected rumour (probability at or above verify_high), or one that got a clarification."""
    if event.rumour_probability is not None and event.rumour_probability >= playbook.rumour.verify_high:
        return True
    return session.scalar(select(Clarification.id).where(Clarification.event_id == event.id).limit(1)) is not None


def rumour_events(session: Session, playbook: Playbook, since: dt.datetime | None = None) -> list[Event]:
    query = select(Event).order_by(Event.heat.desc(), Event.id)
    if since is not None:
        query = query.where(Event.last_seen_at >= since)
    return [e for e in session.scalars(query) if is_rumour_event(session, e, playbook)]


def close_answered(session: Session, playbook: Playbook, now: dt.datetime) -> list[EventSpread]:
    """Close every open rumour event its clarification has out-spread; returns those closed."""
    closed = []
    for event in rumour_events(session, playbook):
        if event.status in CLOSED_STATES:
            continue
        spread = event_spread(session, event, playbook, now)
        if spread.closable:
            event.status, event.closed_at = "closed", now
            closed.append(spread)
    session.flush()
    return closed
