"""Information submission (2006 §三 信息报送) and its adoption by the provincial portal (§四).

A unit's liaison submits information under their real name (实名制); duty editors adopt it (采用,
with an optional bonus: interview, commentary, video, headline) or decline it (退回, with a reason).
The portal publishing a matching item — a near-duplicate of the body, or a 来源/信息来源 line naming
the unit — marks a pending submission adopted by itself; duty staff can undo an adoption. Every
step is an append-only :class:`SubmissionAudit`. Points follow adoption (:mod:`responders.points`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from classifiers.signatures import jaccard, match_basis
from monitor.carrying import Text, carries, host_of
from monitor.policy_carriage import default_dedupe, item_text
from playbooks.schema import Playbook
from responders import points
from responders.actions import ACTIONS
from responders.carriers import record_carriers
from responders.errors import BadCommand, ResponderError, UnknownCase, UnknownDepartment
from responders.messages import Templates
from store.models import Department, Item, Reprint, Source, Submission, SubmissionAudit

if TYPE_CHECKING:  # a type only: the sources file's schema pulls in httpx and bs4
    from monitor.config import DedupeSection

MAX_TITLE = 200
MAX_TEXT = 20_000
# Feed times are often to the minute and site clocks drift: a publication this much "before" the
# submission still counts as its adoption.
CLOCK_SKEW = dt.timedelta(hours=1)
# "来源：省教育厅" / "信息来源: 农安县政府" at the foot of a portal article: a pattern that reads what
# the portal wrote (its words 来源/信息来源), not a sentence anyone is shown
SOURCE_LINE = re.compile(r"(?:信息)?来源\s*[:：]\s*([^\s，,。;；|）)】]+)")


class SubmissionState(str, Enum):
    submitted = "submitted"
    adopted = "adopted"
    declined = "declined"


STATE_LABELS = {SubmissionState.submitted: "待审", SubmissionState.adopted: "已采用",
                SubmissionState.declined: "已退回"}


class Bonus(str, Enum):
    """2006 §四's extra points for the kind of an adopted item, by the names editors type."""

    interview = "interview"  # 特约信息、访谈信息
    commentary = "commentary"  # 特约网评信息
    video = "video"  # 视频信息
    headline = "headline"  # 标题新闻、图片新闻

    @property
    def reason(self) -> points.Reason:
        return BONUS_REASONS[self]


BONUS_REASONS = {Bonus.interview: points.Reason.special_or_interview,
                 Bonus.commentary: points.Reason.special_commentary,
                 Bonus.video: points.Reason.video, Bonus.headline: points.Reason.headline_or_picture}
BONUS_WORDS = {"访谈": Bonus.interview, "特约": Bonus.interview, "网评": Bonus.commentary,  # as editors type them
               "视频": Bonus.video, "标题": Bonus.headline, "图片": Bonus.headline}


class SubmissionError(ResponderError):
    """A submission action is not possible; the message says why."""


def parse_bonus(text: str | None) -> Bonus | None:
    """``video`` or ``视频`` → Bonus.video; empty → None; anything else is a BadCommand naming the choices."""
    word = (text or "").strip().lower()
    if not word:
        return None
    try:
        return Bonus(word)
    except ValueError:
        if word in BONUS_WORDS:
            return BONUS_WORDS[word]
    raise BadCommand(reply="unknown_bonus", bonus=text, names=[b.value for b in Bonus] + list(BONUS_WORDS))


def _audit(session: Session, row: Submission, actor: str, action: str, now: dt.datetime, **detail: object) -> None:
    session.add(SubmissionAudit(submission_id=row.id, at=now, actor=actor, action=action, detail=dict(detail)))


def get(session: Session, submission_id: int) -> Submission:
    row = session.get(Submission, submission_id)
    if row is None:
        raise UnknownCase(reply="no_such", kind="submission", n=submission_id)
    return row


def submit(session: Session, *, unit: str, title: str, text: str, by: str, now: dt.datetime,
           url: str | None = None, attachments: list[str] | None = None) -> Submission:
    """Record a unit's submission under the submitter's real name; returns the new row."""
    if session.get(Department, unit) is None:
        raise UnknownDepartment(reply="not_registered", department=unit, submitting=True)
    title, text, by = title.strip(), text.strip(), by.strip()
    if not title:
        raise BadCommand(reply="submission_needs_title")
    if not by:
        raise BadCommand(reply="submission_needs_name")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise BadCommand(reply="submission_too_long", max_title=MAX_TITLE, max_text=MAX_TEXT)
    if url and not url.startswith(("http://", "https://")):
        raise BadCommand(reply="submission_bad_url")
    row = Submission(department_key=unit, title=title, text=text, url=url or None, attachments=attachments or [],
                     submitted_by=by, submitted_at=now, state=SubmissionState.submitted.value)
    session.add(row)
    session.flush()
    _audit(session, row, by, "submit", now, unit=unit)
    return row


def _require(row: Submission, *allowed: SubmissionState, action: str) -> None:
    state = SubmissionState(row.state)
    if state not in allowed:
        raise SubmissionError(reply="submission_state", submission=row.id, state=STATE_LABELS[state],
                              action=ACTIONS[action].label)


def adopt(session: Session, playbook: Playbook, submission_id: int, *, who: str, now: dt.datetime,
          bonus: Bonus | None = None, item_id: int | None = None) -> Submission:
    """采用: +adopted (and the bonus) to the submitting unit, once; *item_id* is the portal's publication."""
    row = get(session, submission_id)
    _require(row, SubmissionState.submitted, action="adopt")
    if item_id is not None and session.get(Item, item_id) is None:
        raise UnknownCase(reply="no_such", kind="item", n=item_id)
    row.state, row.adopted_at, row.adopted_by = SubmissionState.adopted.value, now, who
    row.bonus, row.adopted_item_id = (bonus.value if bonus else None), item_id
    _audit(session, row, who, "adopt", now, bonus=row.bonus, item_id=item_id)
    points.award_adoption(session, playbook, row, now=now, who=who, bonus=bonus.reason if bonus else None)
    session.flush()
    return row


def decline(session: Session, submission_id: int, *, reason: str, who: str, now: dt.datetime) -> Submission:
    """退回 with the reason, so the unit can improve and resubmit."""
    if not reason.strip():
        raise BadCommand(reply="decline_needs_reason")
    row = get(session, submission_id)
    _require(row, SubmissionState.submitted, action="decline")
    row.state, row.decline_reason = SubmissionState.declined.value, reason.strip()
    _audit(session, row, who, "decline", now, reason=reason.strip())
    session.flush()
    return row


def undo_adoption(session: Session, submission_id: int, *, who: str, now: dt.datetime, reason: str) -> Submission:
    """Duty staff take back a wrong adoption (e.g. detected from the portal by mistake): its points go too."""
    if not reason.strip():
        raise BadCommand(reply="undo_needs_reason")
    row = get(session, submission_id)
    _require(row, SubmissionState.adopted, action="undo_adoption")
    removed = points.revoke_adoption(session, row)
    _audit(session, row, who, "undo_adoption", now, reason=reason.strip(), item_id=row.adopted_item_id,
           points_removed=removed)
    row.state, row.adopted_at, row.adopted_by, row.bonus, row.adopted_item_id = (
        SubmissionState.submitted.value, None, None, None, None)
    session.flush()
    return row


def trail(session: Session, submission_id: int) -> list[SubmissionAudit]:
    return list(session.scalars(select(SubmissionAudit).where(SubmissionAudit.submission_id == submission_id)
                                .order_by(SubmissionAudit.id)))


# --------------------------------------------------------------------------- adoption seen on the portal


@dataclass(frozen=True)
class Detected:
    submission_id: int
    item_id: int
    how: str  # near_duplicate | link | source_line


def _named_unit(session: Session, item: Item) -> str | None:
    """The unit a portal article names as its 来源, by key or full name."""
    for name in SOURCE_LINE.findall(f"{item.title}\n{item.text}"):
        unit = session.scalar(select(Department.key).where(or_(Department.key == name,
                                                                Department.full_name == name)))
        if unit is not None:
            return unit
    return None


def _portal_items(session: Session, playbook: Playbook, since: dt.datetime) -> list[Item]:
    rows = session.execute(select(Item, Source).join(Source, Item.source_id == Source.id)
                           .where(or_(Item.published_at >= since, Item.fetched_at >= since)).order_by(Item.id)).all()
    taken = set(session.scalars(select(Submission.adopted_item_id).where(Submission.adopted_item_id.is_not(None))))
    weights = playbook.source_weights
    return [item for item, source in rows if item.id not in taken
            and weights.is_portal(host_of(item.url) or source.host or host_of(source.url))]


def _match(session: Session, item: Item, pending: list[Submission],
           dedupe: DedupeSection) -> tuple[Submission, str] | None:
    published = item_text(item, dedupe)
    for row in pending:
        found = carries(Text(row.url, match_basis(row.title, row.text, dedupe.min_chars)), published, dedupe)
        if found is not None:
            return row, found.method
    unit = _named_unit(session, item)
    mine = [row for row in pending if row.department_key == unit]
    if not mine:
        return None
    best = max(mine, key=lambda row: jaccard(row.title, item.title or ""))
    return best, "source_line"


def _awaiting_publication(session: Session) -> list[Submission]:
    """Submissions not yet adopted, and those an editor adopted before the portal published them."""
    query = select(Submission).where(or_(Submission.state == SubmissionState.submitted.value,
                                         (Submission.state == SubmissionState.adopted.value)
                                         & Submission.adopted_item_id.is_(None)))
    return list(session.scalars(query.order_by(Submission.submitted_at, Submission.id)))


def detect_adoptions(session: Session, playbook: Playbook, now: dt.datetime, *, since: dt.datetime,
                     dedupe: DedupeSection | None = None) -> list[Detected]:
    """Mark pending submissions adopted when the portal has published them (each portal item adopts one);
    a submission an editor adopted by hand gets its published item linked, so its reprints count."""
    dedupe = dedupe or default_dedupe()
    pending = _awaiting_publication(session)
    if not pending:
        return []
    found = []
    portal = Templates.of(playbook).plain("portal_actor")  # who the audit trail says adopted it
    for item in _portal_items(session, playbook, min(since, min(row.submitted_at for row in pending))):
        published = (item.published_at or item.fetched_at) + CLOCK_SKEW
        earlier = [row for row in pending if row.submitted_at <= published]
        hit = _match(session, item, earlier, dedupe) if earlier else None
        if hit is None:
            continue
        row, how = hit
        if row.state == SubmissionState.adopted.value:
            row.adopted_item_id = item.id
            _audit(session, row, portal, "publish", now, item_id=item.id, how=how)
        else:
            adopt(session, playbook, row.id, who=portal, now=now, item_id=item.id)
        pending.remove(row)
        found.append(Detected(row.id, item.id, how))
        if not pending:
            break
    return found


def track_adopted(session: Session, playbook: Playbook, now: dt.datetime,
                  dedupe: DedupeSection | None = None) -> list[Reprint]:
    """Record the reprints of every adopted submission's portal item seen so far (safe to repeat)."""
    dedupe = dedupe or default_dedupe()
    added: list[Reprint] = []
    rows = session.scalars(select(Submission).where(Submission.state == SubmissionState.adopted.value,
                                                    Submission.adopted_item_id.is_not(None)))
    for row in rows:
        own = session.get(Item, row.adopted_item_id)
        if own is not None:
            added += record_carriers(session, own, item_text(own, dedupe), playbook, now, dedupe)
    return added
