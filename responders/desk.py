"""The duty desk's and departments' actions, shared by the Telegram bot and the console.

Each method authorises the actor from the members file, applies the change in
one transaction (with its audit row and outbox messages) and returns a
:class:`Reply`: the answer to show, whether anything changed, a status line to
add to the message whose button was pressed, and that message's new buttons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from playbooks.members import Members
from playbooks.schema import Playbook
from responders import clarifications, digest, submissions
from responders.actions import ACTIONS, Target
from responders.auth import authorise, require_duty, require_editor, require_reviewer
from responders.cases import (
    OPEN_STATES,
    STATE_LABELS,
    TRANSITIONS,
    Actor,
    State,
    Who,
    _audit,
    add_department,
    cases_of,
    check,
    get_case,
    refresh_event_status,
    transition,
)
from responders.consultation import open_consultation, record_line
from responders.errors import AlreadyDone, BadCommand, NotAuthorised, UnknownDepartment
from responders.intake import get_event, notify_case
from responders.messages import Templates
from responders.outbox import enqueue
from responders.routing import Profile, Role, RouteIntent
from responders.views import (
    Buttons,
    department_buttons,
    event_cases_message,
    list_message,
    overdue_rows,
    status_rows,
    submission_buttons,
    submission_message,
    today_rows,
)
from store.database import session_scope
from store.models import Case, DigestEntry, Event

Clock = Callable[[], dt.datetime]

VIEW_TITLES = {"status": "在办任务", "overdue": "超时任务", "today": "今日任务"}


@dataclass(frozen=True)
class Pending:
    """A button asked for words: the person's next message completes *action* on *number*."""

    action: str
    number: int


@dataclass(frozen=True)
class Reply:
    text: str
    changed: bool = False
    note: str | None = None  # status line for the message whose button was pressed
    buttons: Buttons | None = None  # that message's new buttons (None: leave them)
    prompt: Pending | None = None  # what the person's next message completes


class Desk:
    def __init__(self, sessions: sessionmaker[Session], playbook: Playbook, members: Members,
                 templates: Templates, clock: Clock) -> None:
        self.sessions = sessions
        self.playbook = playbook
        self.members = members
        self.templates = templates
        self.clock = clock

    # ------------------------------------------------------------------ department actions

    def _note(self, action: str, actor: Actor, at: dt.datetime | None) -> str:
        return self.templates.reply("note", done=ACTIONS[action].done, actor=actor.name, at=at)

    def _case_action(self, actor: Actor, case_id: int, action: str, **detail: object) -> Reply:
        now = self.clock()
        with session_scope(self.sessions) as session:
            a = get_case(session, case_id)
            self._authorise_case(actor, a, action)
            if action == "respond":
                # the department's answer is its clarification, pending 审签 (the one place one is created)
                check(a, action)
                clarifications.submit(session, a, a.department_key, str(detail["response"]), actor, now)
            else:
                transition(session, a, action, actor, now=now, **detail)
            note = self._note(action, actor, now)
            self._after(session, a, action, now)
            text = self.templates.reply("case_done", case=a.id, done=ACTIONS[action].done,
                                        state=STATE_LABELS[State(a.state)])
            return Reply(text, True, note, department_buttons(a))

    def _authorise_case(self, actor: Actor, a: Case, action: str) -> None:
        authorise(self.members, actor, TRANSITIONS[action].who, what=ACTIONS[action].label,
                  department=a.department_key, case=a.id)

    def _after(self, session: Session, a: Case, action: str, now: dt.datetime) -> None:
        """Tell the duty chat when a case is answered, explained or extended."""
        if action in ("respond", "explain", "extend"):
            pending = clarifications.of_event(session, a.event_id)
            submitted = [c for c in pending if c.case_id == a.id and c.state == "submitted"]
            clarification = submitted[-1].id if action == "respond" and submitted else None
            text = self.templates.reply("case_to_duty", a=a, action=action, clarification=clarification)
            enqueue(session, dedupe_key=f"case:{a.id}:{action}:{int(now.timestamp())}", kind="case",
                    chat_id=self.members.duty.chat_id, text=text, now=now, event_id=a.event_id)

    def preflight(self, actor: Actor, action: str, number: int) -> None:
        """Refuse a button that needs more words before asking for them (wrong person, wrong state)."""
        target = ACTIONS[action].target
        if target is Target.event:
            require_duty(self.members, actor, ACTIONS[action].label)
            return
        if target is Target.submission:
            require_editor(self.members, actor, ACTIONS[action].label)
            return
        with session_scope(self.sessions) as session:
            a = get_case(session, number)
            if action == "reassign" and not self.members.is_duty(actor.user_id or 0):
                authorise(self.members, actor, frozenset({Who.department}), what=ACTIONS["reassign_requested"].label,
                          department=a.department_key, case=a.id)
            else:
                self._authorise_case(actor, a, action)
            check(a, action)

    def acknowledge(self, actor: Actor, case_id: int) -> Reply:
        return self._case_action(actor, case_id, "acknowledge")

    def extend(self, actor: Actor, case_id: int, reason: str) -> Reply:
        return self._case_action(actor, case_id, "extend", reason=reason)

    def respond(self, actor: Actor, case_id: int, response: str) -> Reply:
        return self._case_action(actor, case_id, "respond", response=response.strip())

    def explain(self, actor: Actor, case_id: int, text: str) -> Reply:
        return self._case_action(actor, case_id, "explain", text=text)

    def dismiss(self, actor: Actor, case_id: int, reason: str) -> Reply:
        return self._case_action(actor, case_id, "dismiss", reason=reason)

    def close(self, actor: Actor, case_id: int) -> Reply:
        return self._case_action(actor, case_id, "close")

    def reassign(self, actor: Actor, case_id: int, department: str, reason: str) -> Reply:
        """Duty staff reassign at once; the case's own department files a request for them."""
        if department and department not in self.playbook.departments:
            raise UnknownDepartment(reply="unknown_department", department=department)
        if self.members.is_duty(actor.user_id or 0):
            return self._do_reassign(actor, case_id, department, reason)
        return self._request_reassign(actor, case_id, department, reason)

    def _do_reassign(self, actor: Actor, case_id: int, department: str, reason: str) -> Reply:
        now = self.clock()
        with session_scope(self.sessions) as session:
            a = get_case(session, case_id)
            transition(session, a, "reassign", actor, now=now, department=department, reason=reason,
                       playbook=self.playbook)
            new = session.get(Case, a.history[-1].detail["new_case"])
            assert new is not None
            notify_case(session, new, self.members, self.templates, [], now)
            note = self.templates.reply("reassigned_note", department=department, new=new.id, actor=actor.name, at=now)
            return Reply(self.templates.reply("reassigned", case=a.id, department=department, new=new.id), True,
                         note, ())

    def _request_reassign(self, actor: Actor, case_id: int, department: str, reason: str) -> Reply:
        now = self.clock()
        if not reason.strip():
            raise BadCommand(reply="reassign_needs_reason")
        with session_scope(self.sessions) as session:
            a = get_case(session, case_id)
            authorise(self.members, actor, frozenset({Who.department}), what=ACTIONS["reassign_requested"].label,
                      department=a.department_key, case=a.id)
            check(a, "reassign")
            _audit(session, a, actor, "reassign_requested", a.state, now, to=department or None, reason=reason)
            text = self.templates.render("reassign_request", a=a, target=department, reason=reason,
                                         requested_by=actor.name)
            enqueue(session, dedupe_key=f"reassign-request:{a.id}:{int(now.timestamp())}", kind="case",
                    chat_id=self.members.duty.chat_id, text=text, now=now, event_id=a.event_id)
            return Reply(self.templates.reply("reassign_requested", case=a.id), True,
                         self._note("reassign_requested", actor, now))

    # ------------------------------------------------------------------ duty desk actions on events

    def confirm(self, actor: Actor, event_id: int) -> Reply:
        require_duty(self.members, actor, ACTIONS["confirm"].label)
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            cases = cases_of(session, event.id)
            if any(e.action == "confirm" for a in cases for e in a.history):
                raise AlreadyDone(cases[0].id, ACTIONS["confirm"].button or "", cases[0].state, event=event_id)
            for a in cases:
                _audit(session, a, actor, "confirm", a.state, now)
            return Reply(self.templates.reply("confirmed", event=event_id), True, self._note("confirm", actor, now))

    def ignore(self, actor: Actor, event_id: int, reason: str = "") -> Reply:
        require_duty(self.members, actor, ACTIONS["ignore"].label)
        reason = reason.strip() or self.templates.plain("ignore_reason")
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            if event.status == "ignored":
                return Reply(self.templates.reply("ignored_before", event=event_id))
            for a in cases_of(session, event.id):
                if State(a.state) in OPEN_STATES:
                    transition(session, a, "dismiss", actor, now=now, reason=reason)
            event.status = "ignored"
            return Reply(self.templates.reply("ignored", event=event_id), True,
                         self.templates.reply("ignored_note", reason=reason, actor=actor.name, at=now), ())

    def assign(self, actor: Actor, event_id: int, department: str) -> Reply:
        require_duty(self.members, actor, ACTIONS["assign"].label)
        department = department.strip()
        if department not in self.playbook.departments:
            raise UnknownDepartment(reply="unknown_department", department=department)
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            cases = cases_of(session, event.id)
            profile = Profile(cases[0].rule_snapshot["profile"]) if cases else Profile.ordinary
            category = event.category if event.category in self.playbook.categories else self.playbook.fallback_category
            intent = RouteIntent(department, Role.manual, self.templates.plain("assign_reason", actor=actor.name))
            a = add_department(session, event, intent, profile, category, self.playbook, now=now, actor=actor)
            if event.status == "ignored":
                event.status = "open"
            refresh_event_status(session, event)
            notify_case(session, a, self.members, self.templates, [], now)
            return Reply(self.templates.reply("assigned", event=event_id, department=department, case=a.id), True,
                         self.templates.reply("assigned_note", department=department, case=a.id, actor=actor.name,
                                              at=now))

    def consult(self, actor: Actor, event_id: int) -> Reply:
        require_duty(self.members, actor, ACTIONS["consult"].label)
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            reasons = [self.templates.plain("consult_reason")]
            _, new = open_consultation(session, event, reasons, self.members, self.templates, actor, now)
            if not new:
                return Reply(self.templates.reply("consulted_before", event=event_id))
            return Reply(self.templates.reply("consulted", event=event_id), True, self._note("consult", actor, now))

    def approve(self, actor: Actor, clarification_id: int) -> Reply:
        """审签: duty staff sign off a submitted clarification; from now on its spread is tracked."""
        require_reviewer(self.members, actor, ACTIONS["approve"].label)
        with session_scope(self.sessions) as session:
            row = clarifications.get(session, clarification_id)
            if row.state == "approved":
                return Reply(self.templates.reply("approved_before", clarification=clarification_id))
            clarifications.approve(session, clarification_id, actor, self.clock(), self.playbook)
            return Reply(self.templates.reply("approved", clarification=clarification_id, event=row.event_id), True)

    def reject(self, actor: Actor, clarification_id: int, reason: str) -> Reply:
        require_reviewer(self.members, actor, ACTIONS["reject"].label)
        with session_scope(self.sessions) as session:
            row = clarifications.reject(session, clarification_id, actor, reason, self.clock())
            return Reply(self.templates.reply("rejected", clarification=clarification_id, unit=row.department_key,
                                              reason=reason), True)

    def digest(self, actor: Actor, event_id: int) -> Reply:
        """入摘要: pick the event into today's 《网络信息摘要》 (the office's own pick: no unit earns points)."""
        require_duty(self.members, actor, ACTIONS["digest"].label)
        now = self.clock()
        with session_scope(self.sessions) as session:
            get_event(session, event_id)
            picked = {e.id for e in session.scalars(select(DigestEntry).where(DigestEntry.event_id == event_id))}
            entry = digest.add(session, self.playbook, who=actor.name, now=now, event_id=event_id)
            if entry.id in picked:
                return Reply(self.templates.reply("digested_before", submission=None, event=event_id, day=entry.day,
                                                  entry=entry.id))
            text = self.templates.reply("digested", submission=None, event=event_id, day=entry.day, entry=entry.id)
            return Reply(text, True, self._note("digest", actor, now))

    def instruct(self, actor: Actor, entry_id: int, text: str) -> Reply:
        """Record a leader's 批示 on a digest entry (+6, once, to the unit whose submission it came from)."""
        require_duty(self.members, actor, ACTIONS["instruct"].label)
        with session_scope(self.sessions) as session:
            entry = digest.instruct(session, self.playbook, entry_id, text, who=actor.name, now=self.clock())
            return Reply(self.templates.reply("instructed", entry=entry.id), True)

    def line(self, actor: Actor, event_id: int, text: str) -> Reply:
        require_duty(self.members, actor, ACTIONS["line"].label)
        now = self.clock()
        with session_scope(self.sessions) as session:
            record_line(session, event_id, text, self.members, self.templates, actor, now)
            return Reply(self.templates.reply("line_recorded", event=event_id), True)

    # ------------------------------------------------------------------ information submission (2006 §三)

    def submit(self, actor: Actor, text: str) -> Reply:
        """/submit 标题｜正文[｜链接]: a liaison submits information for their unit, under their real name."""
        units = self.members.departments_of(actor.user_id) if actor.user_id is not None else []
        if len(units) != 1:
            raise NotAuthorised(reply="liaison_of_many", units=units) if units else NotAuthorised(reply="not_a_liaison")
        name = self.members.name_of(actor.user_id)
        if not name:
            raise NotAuthorised(reply="real_name")
        parts = [p.strip() for p in text.replace("|", "｜").split("｜")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise BadCommand(reply="usage", command="submit")
        now = self.clock()
        with session_scope(self.sessions) as session:
            row = submissions.submit(
                session,
                unit=units[0],
                title=parts[0],
                text=parts[1],
                by=name,
                now=now,
                url=parts[2] if len(parts) > 2 and parts[2] else None,
            )
            enqueue(
                session,
                dedupe_key=f"submission:{row.id}",
                kind="submission",
                chat_id=self.members.duty.chat_id,
                text=submission_message(row, self.templates),
                buttons=submission_buttons(row),
                now=now,
            )
            return Reply(self.templates.reply("submitted", submission=row.id), True)

    def adopt(self, actor: Actor, submission_id: int, bonus: str = "") -> Reply:
        """采用: +5 to the submitting unit, plus the bonus for an interview, commentary, video or headline."""
        require_editor(self.members, actor, ACTIONS["adopt"].label)
        kind = submissions.parse_bonus(bonus)
        with session_scope(self.sessions) as session:
            row = submissions.get(session, submission_id)
            if row.state == submissions.SubmissionState.adopted.value:
                return Reply(self.templates.reply("adopted_before", submission=submission_id))
            submissions.adopt(session, self.playbook, submission_id, who=actor.name, now=self.clock(), bonus=kind)
            bonus_label = kind.value if kind else None
            return Reply(
                self.templates.reply("adopted", submission=submission_id, bonus=bonus_label, unit=row.department_key),
                True,
                self.templates.reply("adopted_note", bonus=bonus_label, actor=actor.name, at=self.clock()),
                (),
            )

    def decline(self, actor: Actor, submission_id: int, reason: str) -> Reply:
        require_editor(self.members, actor, ACTIONS["decline"].label)
        with session_scope(self.sessions) as session:
            row = submissions.decline(session, submission_id, reason=reason, who=actor.name, now=self.clock())
            chat = self.members.chat_of(row.department_key)
            if chat is not None:
                enqueue(
                    session,
                    dedupe_key=f"submission-declined:{row.id}",
                    kind="submission",
                    chat_id=chat,
                    text=self.templates.reply("declined_to_unit", submission=row.id, title=row.title, reason=reason),
                    now=self.clock(),
                )
            return Reply(
                self.templates.reply("declined", submission=submission_id, unit=row.department_key, reason=reason),
                True,
                self._note("decline", actor, None),
                (),
            )

    def digest_submission(self, actor: Actor, submission_id: int) -> Reply:
        """入摘要 for a unit's submission: +3 to that unit (2006 §三–§四), once."""
        require_duty(self.members, actor, ACTIONS["digest_submission"].label)
        now = self.clock()
        with session_scope(self.sessions) as session:
            picked = set(session.scalars(select(DigestEntry.id).where(DigestEntry.submission_id == submission_id)))
            entry = digest.add(session, self.playbook, who=actor.name, now=now, submission_id=submission_id)
            if entry.id in picked:
                return Reply(self.templates.reply("digested_before", submission=submission_id, day=entry.day,
                                                  entry=entry.id))
            return Reply(self.templates.reply("digested", submission=submission_id, day=entry.day, entry=entry.id),
                         True)

    # ------------------------------------------------------------------ views

    def cases(self, event_id: int) -> Reply:
        """An event's cases, their states and deadlines."""
        with session_scope(self.sessions) as session:
            return Reply(event_cases_message(session, get_event(session, event_id), self.templates))

    def status(self) -> Reply:
        with session_scope(self.sessions) as session:
            return Reply(list_message(session, self.templates, VIEW_TITLES["status"], status_rows(session)))

    def overdue(self) -> Reply:
        with session_scope(self.sessions) as session:
            rows = overdue_rows(session, self.clock())
            return Reply(list_message(session, self.templates, VIEW_TITLES["overdue"], rows))

    def today(self) -> Reply:
        from zoneinfo import ZoneInfo

        with session_scope(self.sessions) as session:
            rows = today_rows(session, self.clock(), ZoneInfo(self.playbook.timezone))
            return Reply(list_message(session, self.templates, VIEW_TITLES["today"], rows))

    def help(self) -> Reply:
        return Reply(self.templates.render("help"))

    def event_of(self, session: Session, event_id: int) -> Event:
        return get_event(session, event_id)
