"""The daily 《网络信息摘要》 (2006 §三): items and events duty staff pick for the leaders.

An entry comes from an item or event the duty desk picked (the office's own writing: no points)
or from a unit's submission (§三 各级政府、各部门…积极为《网络信息摘要》报送相关信息): then the
submitting unit gets +3 (``points.digest_adopted``) and a leader's instruction (批示) on the entry
+6 (``points.digest_leader_instruction``). The department an event is routed to is never credited:
it would earn points for the problem leaders read about. Awards go through the points ledger with
dedupe keys, so pressing 入摘要 twice neither adds a second entry nor a second award.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.urls import safe_link
from playbooks.schema import Playbook
from responders.errors import BadCommand, UnknownCase
from responders.messages import Templates, clip_html
from responders.points import Reason, award
from responders.reports import render
from store.models import DigestEntry, Event, Item, Submission

SUMMARY_CHARS = 160


@dataclass(frozen=True)
class DigestView:
    """What leaders read of one entry."""

    entry_id: int
    title: str
    summary: str
    url: str | None
    department: str | None
    added_by: str
    instruction: str | None


def _resolve(session: Session, item_id: int | None, event_id: int | None,
             submission_id: int | None) -> tuple[Item | None, Event | None, Submission | None]:
    if sum(x is not None for x in (item_id, event_id, submission_id)) != 1:
        raise BadCommand(reply="digest_needs_one")
    if item_id is not None:
        item = session.get(Item, item_id)
        if item is None:
            raise UnknownCase(reply="no_such", kind="item", n=item_id)
        return item, None, None
    if event_id is not None:
        event = session.get(Event, event_id)
        if event is None:
            raise UnknownCase(reply="no_such", kind="event", n=event_id)
        return None, event, None
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise UnknownCase(reply="no_such", kind="submission", n=submission_id)
    return None, None, submission


def _find(session: Session, day: dt.date, item: Item | None, event: Event | None,
          submission: Submission | None) -> DigestEntry | None:
    query = select(DigestEntry).where(DigestEntry.day == day)
    if item is not None:
        query = query.where(DigestEntry.item_id == item.id)
    elif event is not None:
        query = query.where(DigestEntry.event_id == event.id)
    else:
        assert submission is not None
        query = query.where(DigestEntry.submission_id == submission.id)
    return session.scalars(query).first()


def add(session: Session, playbook: Playbook, *, who: str, now: dt.datetime, item_id: int | None = None,
        event_id: int | None = None, submission_id: int | None = None, day: dt.date | None = None) -> DigestEntry:
    """Put an item, event or submission into the day's digest (入摘要); idempotent per day.

    Only a submission's unit is credited (+3, once per submission)."""
    item, event, submission = _resolve(session, item_id, event_id, submission_id)
    day = day or now.astimezone(ZoneInfo(playbook.timezone)).date()
    entry = _find(session, day, item, event, submission)
    if entry is None:
        entry = DigestEntry(day=day, item_id=item.id if item else None, event_id=event.id if event else None,
                            submission_id=submission.id if submission else None,
                            department_key=submission.department_key if submission else None,
                            added_by=who, added_at=now)
        session.add(entry)
        session.flush()
    if entry.submission_id is not None and entry.department_key:
        award(session, playbook, entry.department_key, Reason.digest_adopted, now=now, who=who,
              dedupe_key=f"digest_adopted:submission:{entry.submission_id}",
              detail=Templates.of(playbook).plain("digest_detail", day=day))
    return entry


def instruct(session: Session, playbook: Playbook, entry_id: int, text: str, *, who: str,
             now: dt.datetime) -> DigestEntry:
    """Record a leader's instruction (批示) on a digest entry; a submitting unit gets the bonus once."""
    if not text.strip():
        raise BadCommand(reply="instruction_needs_text")
    entry = session.get(DigestEntry, entry_id)
    if entry is None:
        raise UnknownCase(reply="no_such", kind="entry", n=entry_id)
    entry.leader_instruction = text.strip()
    entry.instruction_recorded_by = who
    if entry.submission_id is not None and entry.department_key:
        award(session, playbook, entry.department_key, Reason.digest_leader_instruction, now=now, who=who,
              dedupe_key=f"digest_leader_instruction:entry:{entry.id}", item_id=entry.item_id,
              detail=text.strip()[:200])
    session.flush()
    return entry


def _view(session: Session, entry: DigestEntry, templates: Templates) -> DigestView:
    def missing(kind: str, n: int | None) -> str:  # the title of an entry whose row is gone
        return templates.plain("digest_title", kind=kind, n=n)

    if entry.submission_id is not None:
        sub = session.get(Submission, entry.submission_id)
        title = sub.title if sub else missing("submission", entry.submission_id)
        summary = (sub.text if sub else "")[:SUMMARY_CHARS]
        url = sub.url if sub else None
    elif entry.item_id is not None:
        item = session.get(Item, entry.item_id)
        title = (item.title or item.text[:40]) if item else missing("item", entry.item_id)
        summary = (item.text if item else "")[:SUMMARY_CHARS]
        url = item.url if item else None
    else:
        event = session.get(Event, entry.event_id)
        title = event.title if event else missing("event", entry.event_id)
        count, heat = (event.item_count, event.heat) if event else (0, 0.0)
        summary = templates.plain("digest_event_summary", event=entry.event_id, count=count, heat=heat)
        url = None
    # only an http/https address becomes the report's link, and never with its credentials
    return DigestView(
        entry.id, title, summary, safe_link(url), entry.department_key, entry.added_by, entry.leader_instruction
    )


def entries(session: Session, day: dt.date, playbook: Playbook) -> list[DigestView]:
    """The day's entries as leaders read them (an entry's wording, when its row is gone, is *playbook*'s)."""
    templates = Templates.of(playbook)
    rows = session.scalars(select(DigestEntry).where(DigestEntry.day == day).order_by(DigestEntry.id))
    return [_view(session, e, templates) for e in rows]


def render_html(views: list[DigestView], day: dt.date, now: dt.datetime) -> str:
    return render("digest.html.j2", day=day, entries=views, generated_at=now)


def chat_summary(views: list[DigestView], day: dt.date) -> str:
    """The digest as one chat message (HTML parse mode, escaped, clipped to Telegram's limit)."""
    return clip_html(render("digest_chat.txt.j2", day=day, entries=views).strip())


def write(session: Session, day: dt.date, now: dt.datetime, out_dir: Path, playbook: Playbook) -> Path:
    """Write ``digest-YYYY-MM-DD.html`` into *out_dir*."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"digest-{day.isoformat()}.html"
    path.write_text(render_html(entries(session, day, playbook), day, now), encoding="utf-8")
    return path
