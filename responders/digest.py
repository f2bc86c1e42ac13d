"""The daily 《网络信息摘要》 (2006 §三): items and events duty staff pick for the leaders.

Adoption into the digest gives the item's department +3 (``points.digest_adopted``)
and a leader's instruction (批示) on it +6 (``points.digest_leader_instruction``).
Both go through the points ledger with dedupe keys, so pressing 入摘要 twice
neither adds a second entry nor a second award.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.models import Assignment, DigestEntry, Event, Item, Source
from playbooks.schema import Playbook
from responders.errors import BadCommand, UnknownCase
from responders.messages import clip_html
from responders.points import Reason, award
from responders.reports import render

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


def _department_of_item(session: Session, item: Item) -> str | None:
    if item.source_id is None:
        return None
    return session.scalar(select(Source.department_key).where(Source.id == item.source_id))


def _department_of_event(session: Session, event: Event) -> str | None:
    rows = list(session.scalars(select(Assignment).where(Assignment.event_id == event.id).order_by(Assignment.id)))
    lead = next((a for a in rows if a.role == "lead"), rows[0] if rows else None)
    return lead.department_key if lead else None


def _resolve(session: Session, item_id: int | None, event_id: int | None) -> tuple[Item | None, Event | None]:
    if (item_id is None) == (event_id is None):
        raise BadCommand("入摘要须指定一个条目（--item）或一个事件（--event）")
    if item_id is not None:
        item = session.get(Item, item_id)
        if item is None:
            raise UnknownCase(f"没有编号为 {item_id} 的条目")
        return item, None
    event = session.get(Event, event_id)
    if event is None:
        raise UnknownCase(f"没有编号为 {event_id} 的事件")
    return None, event


def add(session: Session, playbook: Playbook, *, who: str, now: dt.datetime, item_id: int | None = None,
        event_id: int | None = None, day: dt.date | None = None) -> DigestEntry:
    """Put an item or event into the day's digest (the bot's 入摘要 button); idempotent per day."""
    item, event = _resolve(session, item_id, event_id)
    day = day or now.astimezone(ZoneInfo(playbook.timezone)).date()
    query = select(DigestEntry).where(DigestEntry.day == day)
    query = query.where(DigestEntry.item_id == item.id) if item else query.where(DigestEntry.event_id == event.id)
    entry = session.scalars(query).first()
    if entry is None:
        dept = _department_of_item(session, item) if item else _department_of_event(session, event)
        entry = DigestEntry(day=day, item_id=item.id if item else None, event_id=event.id if event else None,
                            department_key=dept, added_by=who, added_at=now)
        session.add(entry)
        session.flush()
    if entry.department_key:
        what = f"item:{entry.item_id}" if entry.item_id else f"event:{entry.event_id}"
        award(session, playbook, entry.department_key, Reason.digest_adopted, now=now, who=who,
              dedupe_key=f"digest_adopted:{what}", item_id=entry.item_id, detail=f"摘要 {day}")
    return entry


def instruct(session: Session, playbook: Playbook, entry_id: int, text: str, *, who: str,
             now: dt.datetime) -> DigestEntry:
    """Record a leader's instruction (批示) on a digest entry; the department gets the bonus once."""
    if not text.strip():
        raise BadCommand("批示内容不能为空")
    entry = session.get(DigestEntry, entry_id)
    if entry is None:
        raise UnknownCase(f"没有编号为 {entry_id} 的摘要条目")
    entry.leader_instruction = text.strip()
    entry.instruction_recorded_by = who
    if entry.department_key:
        award(session, playbook, entry.department_key, Reason.digest_leader_instruction, now=now, who=who,
              dedupe_key=f"digest_leader_instruction:entry:{entry.id}", item_id=entry.item_id,
              detail=text.strip()[:200])
    session.flush()
    return entry


def _view(session: Session, entry: DigestEntry) -> DigestView:
    if entry.item_id is not None:
        item = session.get(Item, entry.item_id)
        title = (item.title or item.text[:40]) if item else f"条目 {entry.item_id}"
        summary = (item.text if item else "")[:SUMMARY_CHARS]
        url = item.url if item else None
    else:
        event = session.get(Event, entry.event_id)
        title = event.title if event else f"事件 {entry.event_id}"
        summary = f"事件 {entry.event_id} · 共 {event.item_count if event else 0} 条 · 热度 {event.heat if event else 0:.0f}"
        url = None
    return DigestView(entry.id, title, summary, url, entry.department_key, entry.added_by, entry.leader_instruction)


def entries(session: Session, day: dt.date) -> list[DigestView]:
    rows = session.scalars(select(DigestEntry).where(DigestEntry.day == day).order_by(DigestEntry.id))
    return [_view(session, e) for e in rows]


def render_html(views: list[DigestView], day: dt.date, now: dt.datetime) -> str:
    return render("digest.html.j2", day=day, entries=views, generated_at=now)


def chat_summary(views: list[DigestView], day: dt.date) -> str:
    """The digest as one chat message (HTML parse mode, escaped, clipped to Telegram's limit)."""
    return clip_html(render("digest_chat.txt.j2", day=day, entries=views).strip())


def write(session: Session, day: dt.date, now: dt.datetime, out_dir: Path) -> Path:
    """Write ``digest-YYYY-MM-DD.html`` into *out_dir*."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"digest-{day.isoformat()}.html"
    path.write_text(render_html(entries(session, day), day, now), encoding="utf-8")
    return path
