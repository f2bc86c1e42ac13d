"""Source health: which sources are failing or have gone quiet, as structured findings.

:func:`assess` is pure (source facts + now + policy in, findings out); the
responders turn findings into duty-chat alerts (``dedupe_key`` makes that
idempotent), the CLI prints them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.config import HealthSection, SourcesFile
from monitor.urls import redact_url
from store.models import Item, Source

Problem = Literal["ok", "failing", "silent", "never_polled"]


@dataclass(frozen=True)
class SourceFacts:
    name: str
    url: str
    enabled: bool
    created_at: dt.datetime
    last_success_at: dt.datetime | None
    last_new_item_at: dt.datetime | None
    last_error_at: dt.datetime | None
    last_error: str | None
    consecutive_failures: int
    items_last_week: int
    expected_period: dt.timedelta | None


@dataclass(frozen=True)
class HealthFinding:
    """One source's health; ``problem != 'ok'`` is something the duty desk should see."""

    source: str
    url: str
    problem: Problem
    message: str
    consecutive_failures: int
    last_success_at: dt.datetime | None
    last_error: str | None
    items_per_day: float

    @property
    def dedupe_key(self) -> str:
        """Stable per source, problem and failure streak: one alert per episode, not per poll."""
        streak = self.last_success_at.isoformat() if self.last_success_at else "never"
        return f"source_health:{self.source}:{self.problem}:{streak}"


def assess(facts: SourceFacts, now: dt.datetime, policy: HealthSection) -> HealthFinding:
    """Decide one source's health from its counters (pure)."""
    per_day = round(facts.items_last_week / 7, 2)

    def finding(problem: Problem, message: str) -> HealthFinding:
        return HealthFinding(facts.name, facts.url, problem, message, facts.consecutive_failures,
                             facts.last_success_at, facts.last_error, per_day)

    if facts.consecutive_failures >= policy.failing_after:
        return finding("failing", f"{facts.name}: {facts.consecutive_failures} failed polls in a row; "
                                  f"last error: {facts.last_error or 'unknown'}")
    expected = facts.expected_period or policy.default_expected_period
    limit = expected * policy.silent_factor
    since = facts.last_new_item_at or facts.created_at
    if now - since > limit:
        quiet = _human(now - since)
        return finding("silent", f"{facts.name}: no new items for {quiet} (expected about every {_human(expected)}); "
                                 f"check {facts.url}")
    if facts.last_success_at is None and facts.consecutive_failures == 0 and now - facts.created_at > limit:
        return finding("never_polled", f"{facts.name}: never polled successfully")
    return finding("ok", f"{facts.name}: ok")


def _human(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def gather(session: Session, config: SourcesFile, now: dt.datetime) -> list[SourceFacts]:
    """Facts for every enabled, polled source (imports are not expected to post)."""
    week_ago = now - dt.timedelta(days=7)
    # counted per source through ix_items_source_fetched_at: a range of the index each, never every item
    last_week = (select(func.count()).where(Item.source_id == Source.id, Item.fetched_at >= week_ago)
                 .correlate(Source).scalar_subquery())
    facts = []
    for row, count in session.execute(select(Source, last_week).where(Source.enabled.is_(True))
                                      .order_by(Source.name)):
        if row.kind == "import":
            continue
        spec = config.get(row.name)
        facts.append(SourceFacts(
            row.name, redact_url(row.url), row.enabled, row.created_at, row.last_success_at, row.last_new_item_at,
            row.last_error_at, row.last_error, row.consecutive_failures, count,
            spec.expected_period if spec else None,
        ))
    return facts


def health_findings(session: Session, config: SourcesFile, now: dt.datetime) -> list[HealthFinding]:
    """Every enabled source's health, problems first."""
    findings = [assess(f, now, config.health) for f in gather(session, config, now)]
    return sorted(findings, key=lambda f: (f.problem == "ok", f.source))
