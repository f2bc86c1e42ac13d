"""The duty desk's and departments' actions, shared by the Telegram bot and the console.

Each method authorises the actor from the members file, applies the change in
one transaction (with its audit row and outbox messages) and returns a
:class:`Reply`: the answer to show, whether anything changed, a status line to
add to the message whose button was pressed, and that message's new buttons.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.database import session_scope
from monitor.store.models import Assignment, DigestEntry, Event
from monitor.store.types import shown
from playbooks.members import Members
from playbooks.schema import Playbook
from responders import clarifications, digest, submissions
from responders.assignments import (
    OPEN_STATES,
    STATE_LABELS,
    TRANSITIONS,
    Actor,
    State,
    Who,
    _audit,
    add_department,
    assignments_of,
    check,
    get_assignment,
    refresh_event_status,
    transition,
)
from responders.auth import authorise, require_duty
from responders.consultation import open_consultation, record_line
from responders.errors import AlreadyDone, BadCommand, NotAuthorised, UnknownDepartment
from responders.intake import get_event, notify_assignment
from responders.messages import Templates
from responders.outbox import enqueue
from responders.routing import Profile, Role, RouteIntent
from responders.views import (
    Buttons,
    case_message,
    department_buttons,
    list_message,
    overdue_rows,
    status_rows,
    submission_buttons,
    submission_message,
    today_rows,
)

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Reply:
    text: str
    changed: bool = False
    note: str | None = None  # status line for the message whose button was pressed
    buttons: Buttons | None = None  # that message's new buttons (None: leave them)
    prompt: str | None = None  # the command the user's next message completes (e.g. "/respond 12")


class Desk:
    def __init__(self, sessions: sessionmaker[Session], playbook: Playbook, members: Members,
                 templates: Templates, clock: Clock) -> None:
        self.sessions = sessions
        self.playbook = playbook
        self.members = members
        self.templates = templates
        self.clock = clock

    # ------------------------------------------------------------------ department actions

    def _case_action(self, actor: Actor, assignment_id: int, action: str, done: str, **detail: object) -> Reply:
        now = self.clock()
        with session_scope(self.sessions) as session:
            a = get_assignment(session, assignment_id)
            self._authorise_case(actor, a, action)
            if action == "respond":
                # the department's answer is its clarification, pending 审签 (the one place one is created)
                check(a, action)
                clarifications.submit(session, a, a.department_key, str(detail["response"]), actor, now)
            else:
                transition(session, a, action, actor, now=now, **detail)
            note = f"{done}：{html.escape(actor.name)}，{shown(now)}"
            self._after(session, a, action, now)
            return Reply(f"任务 #{a.id} {done}（{STATE_LABELS[State(a.state)]}）", True, note, department_buttons(a))

    def _authorise_case(self, actor: Actor, a: Assignment, action: str) -> None:
        t = TRANSITIONS[action]
        authorise(self.members, actor, t.who, what=t.label, department=a.department_key, case=f"任务 #{a.id} ")

    def _after(self, session: Session, a: Assignment, action: str, now: dt.datetime) -> None:
        """Tell the duty chat when a case is answered, explained or extended."""
        if action in ("respond", "explain", "extend"):
            what = {"respond": "已提交回应", "explain": "说明无法办理", "extend": "申请延期"}[action]
            text = (f"任务 #{a.id} {html.escape(a.department_key)} {what}"
                    f"（事件 {a.event_id}：{html.escape(a.event.title[:60])}）")
            pending = clarifications.of_event(session, a.event_id)
            submitted = [c for c in pending if c.assignment_id == a.id and c.state == "submitted"]
            if action == "respond" and submitted:
                signer = self.playbook.sign_off.office if self.playbook.sign_off else "值班人员"
                text += (f"\n审签（{signer}，含保密审查）：/approve {submitted[-1].id}　"
                         f"退回：/reject {submitted[-1].id} 理由")
            enqueue(session, dedupe_key=f"assignment:{a.id}:{action}:{int(now.timestamp())}", kind="assignment",
                    chat_id=self.members.duty.chat_id, text=text, now=now, event_id=a.event_id)

    def preflight(self, actor: Actor, assignment_id: int, action: str) -> None:
        """Refuse a button that needs more input before asking for it (wrong department, wrong state)."""
        with session_scope(self.sessions) as session:
            a = get_assignment(session, assignment_id)
            if action == "reassign" and not self.members.is_duty(actor.user_id or 0):
                authorise(self.members, actor, frozenset({Who.department}), what="申请转办",
                          department=a.department_key, case=f"任务 #{a.id} ")
            else:
                self._authorise_case(actor, a, action)
            check(a, action)

    def acknowledge(self, actor: Actor, assignment_id: int) -> Reply:
        return self._case_action(actor, assignment_id, "acknowledge", "已签收")

    def extend(self, actor: Actor, assignment_id: int, reason: str) -> Reply:
        return self._case_action(actor, assignment_id, "extend", "已延期", reason=reason)

    def respond(self, actor: Actor, assignment_id: int, response: str) -> Reply:
        return self._case_action(actor, assignment_id, "respond", "已提交回应", response=response.strip())

    def explain(self, actor: Actor, assignment_id: int, text: str) -> Reply:
        return self._case_action(actor, assignment_id, "explain", "已说明无法办理", text=text)

    def dismiss(self, actor: Actor, assignment_id: int, reason: str) -> Reply:
        return self._case_action(actor, assignment_id, "dismiss", "已撤销", reason=reason)

    def close(self, actor: Actor, assignment_id: int) -> Reply:
        return self._case_action(actor, assignment_id, "close", "已办结")

    def reassign(self, actor: Actor, assignment_id: int, department: str, reason: str) -> Reply:
        """Duty staff reassign at once; the case's own department files a request for them."""
        if department and department not in self.playbook.departments:
            raise UnknownDepartment(f"「{department}」不是剧本中的部门（请写全称，如 省教育厅）")
        if self.members.is_duty(actor.user_id or 0):
            return self._do_reassign(actor, assignment_id, department, reason)
        return self._request_reassign(actor, assignment_id, department, reason)

    def _do_reassign(self, actor: Actor, assignment_id: int, department: str, reason: str) -> Reply:
        now = self.clock()
        with session_scope(self.sessions) as session:
            a = get_assignment(session, assignment_id)
            transition(session, a, "reassign", actor, now=now, department=department, reason=reason,
                       playbook=self.playbook)
            new = session.get(Assignment, a.history[-1].detail["new_assignment"])
            assert new is not None
            notify_assignment(session, new, self.members, self.templates, [], now)
            note = f"已转办至 {html.escape(department)}（新任务 #{new.id}）：{html.escape(actor.name)}，{shown(now)}"
            return Reply(f"任务 #{a.id} 已转办至 {department}，新任务 #{new.id}", True, note, ())

    def _request_reassign(self, actor: Actor, assignment_id: int, department: str, reason: str) -> Reply:
        now = self.clock()
        if not reason.strip():
            raise BadCommand("请写明转办理由：/reassign 任务号 部门 理由")
        with session_scope(self.sessions) as session:
            a = get_assignment(session, assignment_id)
            authorise(self.members, actor, frozenset({Who.department}), what="申请转办",
                      department=a.department_key, case=f"任务 #{a.id} ")
            check(a, "reassign")
            _audit(session, a, actor, "reassign_requested", a.state, now, to=department or None, reason=reason)
            text = self.templates.render("reassign_request", a=a, target=department, reason=reason,
                                         requested_by=actor.name)
            enqueue(session, dedupe_key=f"reassign-request:{a.id}:{int(now.timestamp())}", kind="assignment",
                    chat_id=self.members.duty.chat_id, text=text, now=now, event_id=a.event_id)
            return Reply(f"转办申请已提交值班人员审批（任务 #{a.id}）", True,
                         f"已申请转办：{html.escape(actor.name)}，{shown(now)}")

    # ------------------------------------------------------------------ duty desk actions on events

    def confirm(self, actor: Actor, event_id: int) -> Reply:
        require_duty(self.members, actor, "确认预警")
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            cases = assignments_of(session, event.id)
            if any(e.action == "confirm" for a in cases for e in a.history):
                raise AlreadyDone(cases[0].id, "确认", cases[0].state, f"（事件 {event_id}）")
            for a in cases:
                _audit(session, a, actor, "confirm", a.state, now)
            return Reply(f"事件 {event_id} 已确认", True, f"已确认：{html.escape(actor.name)}，{shown(now)}")

    def ignore(self, actor: Actor, event_id: int, reason: str = "") -> Reply:
        require_duty(self.members, actor, "忽略预警")
        reason = reason.strip() or "值班研判：无需处置"
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            if event.status == "ignored":
                return Reply(f"事件 {event_id} 已经忽略过了，本次未作改动")
            for a in assignments_of(session, event.id):
                if State(a.state) in OPEN_STATES:
                    transition(session, a, "dismiss", actor, now=now, reason=reason)
            event.status = "ignored"
            return Reply(f"事件 {event_id} 已忽略，相关任务已撤销", True,
                         f"已忽略（{html.escape(reason)}）：{html.escape(actor.name)}，{shown(now)}", ())

    def assign(self, actor: Actor, event_id: int, department: str) -> Reply:
        require_duty(self.members, actor, "指派部门")
        department = department.strip()
        if department not in self.playbook.departments:
            raise UnknownDepartment(f"「{department}」不是剧本中的部门（请写全称，如 省教育厅）")
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            cases = assignments_of(session, event.id)
            profile = Profile(cases[0].rule_snapshot["profile"]) if cases else Profile.ordinary
            category = event.category if event.category in self.playbook.categories else self.playbook.fallback_category
            intent = RouteIntent(department, Role.manual, f"值班人员 {actor.name} 指派")
            a = add_department(session, event, intent, profile, category, self.playbook, now=now, actor=actor)
            if event.status == "ignored":
                event.status = "open"
            refresh_event_status(session, event)
            notify_assignment(session, a, self.members, self.templates, [], now)
            return Reply(f"事件 {event_id} 已指派 {department}（任务 #{a.id}）", True,
                         f"已指派 {html.escape(department)}（任务 #{a.id}）：{html.escape(actor.name)}，{shown(now)}")

    def consult(self, actor: Actor, event_id: int) -> Reply:
        require_duty(self.members, actor, "发起会商")
        now = self.clock()
        with session_scope(self.sessions) as session:
            event = get_event(session, event_id)
            _, new = open_consultation(session, event, ["值班人员发起会商"], self.members, self.templates, actor, now)
            if not new:
                return Reply(f"事件 {event_id} 的会商已经开启，本次未作改动")
            return Reply(f"事件 {event_id} 会商已开启", True,
                         f"已发起会商：{html.escape(actor.name)}，{shown(now)}")

    def approve(self, actor: Actor, clarification_id: int) -> Reply:
        """审签: duty staff sign off a submitted clarification; from now on its spread is tracked."""
        require_duty(self.members, actor, "审签澄清")
        with session_scope(self.sessions) as session:
            row = clarifications.get(session, clarification_id)
            if row.state == "approved":
                return Reply(f"澄清 #{clarification_id} 已经审签通过，本次未作改动")
            clarifications.approve(session, clarification_id, actor, self.clock(), self.playbook)
            return Reply(f"澄清 #{clarification_id} 审签通过，开始跟踪转载（事件 {row.event_id}）", True)

    def reject(self, actor: Actor, clarification_id: int, reason: str) -> Reply:
        require_duty(self.members, actor, "退回澄清")
        with session_scope(self.sessions) as session:
            row = clarifications.reject(session, clarification_id, actor, reason, self.clock())
            unit, why = html.escape(row.department_key), html.escape(reason)
            return Reply(f"澄清 #{clarification_id} 已退回{unit}：{why}", True)

    def digest(self, actor: Actor, event_id: int) -> Reply:
        """入摘要: pick the event into today's 《网络信息摘要》 (the office's own pick: no unit earns points)."""
        require_duty(self.members, actor, "编入摘要")
        now = self.clock()
        with session_scope(self.sessions) as session:
            get_event(session, event_id)
            picked = {e.id for e in session.scalars(select(DigestEntry).where(DigestEntry.event_id == event_id))}
            entry = digest.add(session, self.playbook, who=actor.name, now=now, event_id=event_id)
            if entry.id in picked:
                return Reply(f"事件 {event_id} 已在 {entry.day} 的摘要中（条目 {entry.id}），本次未作改动")
            return Reply(
                f"事件 {event_id} 已编入 {entry.day} 的《网络信息摘要》（条目 {entry.id}）",
                True,
                f"已入摘要：{html.escape(actor.name)}，{shown(now)}",
            )

    def instruct(self, actor: Actor, entry_id: int, text: str) -> Reply:
        """Record a leader's 批示 on a digest entry (+6, once, to the unit whose submission it came from)."""
        require_duty(self.members, actor, "记录领导批示")
        with session_scope(self.sessions) as session:
            entry = digest.instruct(session, self.playbook, entry_id, text, who=actor.name, now=self.clock())
            return Reply(f"摘要条目 {entry.id} 的领导批示已记录", True)

    def line(self, actor: Actor, event_id: int, text: str) -> Reply:
        require_duty(self.members, actor, "记录统一口径")
        now = self.clock()
        with session_scope(self.sessions) as session:
            record_line(session, event_id, text, self.members, self.templates, actor, now)
            return Reply(f"事件 {event_id} 统一口径已记录并发送各参会部门", True)

    # ------------------------------------------------------------------ information submission (2006 §三)

    def submit(self, actor: Actor, text: str) -> Reply:
        """/submit 标题｜正文[｜链接]: a liaison submits information for their unit, under their real name."""
        units = self.members.departments_of(actor.user_id) if actor.user_id is not None else []
        if len(units) != 1:
            raise NotAuthorised(
                "只有单位信息联络员可以报送信息"
                if not units
                else f"您是{'、'.join(units)}的联络员，请用命令行 yuqing submit --unit 指明单位"
            )
        name = self.members.name_of(actor.user_id)
        if not name:
            raise NotAuthorised("报送信息实行实名制：请新闻办在 members.yaml 的 names 中登记您的姓名")
        parts = [p.strip() for p in text.replace("|", "｜").split("｜")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise BadCommand("用法：/submit 标题｜正文｜链接（链接可省略）")
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
                text=submission_message(row),
                buttons=submission_buttons(row),
                now=now,
            )
            return Reply(f"已报送（报送号 {row.id}），等待省政府门户网站采用", True)

    def adopt(self, actor: Actor, submission_id: int, bonus: str = "") -> Reply:
        """采用: +5 to the submitting unit, plus the bonus for an interview, commentary, video or headline."""
        require_duty(self.members, actor, "采用报送信息")
        kind = submissions.parse_bonus(bonus)
        with session_scope(self.sessions) as session:
            row = submissions.get(session, submission_id)
            if row.state == submissions.SubmissionState.adopted.value:
                return Reply(f"报送 #{submission_id} 已经采用，本次未作改动")
            submissions.adopt(session, self.playbook, submission_id, who=actor.name, now=self.clock(), bonus=kind)
            extra = f"（{kind.value}）" if kind else ""
            return Reply(
                f"报送 #{submission_id} 已采用{extra}：{html.escape(row.department_key)}",
                True,
                f"已采用{extra}：{html.escape(actor.name)}，{shown(self.clock())}",
                (),
            )

    def decline(self, actor: Actor, submission_id: int, reason: str) -> Reply:
        require_duty(self.members, actor, "退回报送信息")
        with session_scope(self.sessions) as session:
            row = submissions.decline(session, submission_id, reason=reason, who=actor.name, now=self.clock())
            chat = self.members.chat_of(row.department_key)
            if chat is not None:
                enqueue(
                    session,
                    dedupe_key=f"submission-declined:{row.id}",
                    kind="submission",
                    chat_id=chat,
                    text=f"报送 #{row.id}「{html.escape(row.title)}」被退回：{html.escape(reason)}",
                    now=self.clock(),
                )
            return Reply(
                f"报送 #{submission_id} 已退回{html.escape(row.department_key)}：{html.escape(reason)}",
                True,
                f"已退回：{html.escape(actor.name)}",
                (),
            )

    def digest_submission(self, actor: Actor, submission_id: int) -> Reply:
        """入摘要 for a unit's submission: +3 to that unit (2006 §三–§四), once."""
        require_duty(self.members, actor, "编入摘要")
        now = self.clock()
        with session_scope(self.sessions) as session:
            picked = set(session.scalars(select(DigestEntry.id).where(DigestEntry.submission_id == submission_id)))
            entry = digest.add(session, self.playbook, who=actor.name, now=now, submission_id=submission_id)
            if entry.id in picked:
                return Reply(f"报送 #{submission_id} 已在 {entry.day} 的摘要中（条目 {entry.id}），本次未作改动")
            return Reply(f"报送 #{submission_id} 已编入 {entry.day} 的《网络信息摘要》（条目 {entry.id}）", True)

    # ------------------------------------------------------------------ views

    def case(self, event_id: int) -> Reply:
        with session_scope(self.sessions) as session:
            return Reply(case_message(session, get_event(session, event_id), self.templates))

    def status(self) -> Reply:
        with session_scope(self.sessions) as session:
            return Reply(list_message(session, self.templates, "在办任务", status_rows(session)))

    def overdue(self) -> Reply:
        with session_scope(self.sessions) as session:
            rows = overdue_rows(session, self.clock())
            return Reply(list_message(session, self.templates, "超时任务", rows))

    def today(self) -> Reply:
        from zoneinfo import ZoneInfo

        with session_scope(self.sessions) as session:
            rows = today_rows(session, self.clock(), ZoneInfo(self.playbook.timezone))
            return Reply(list_message(session, self.templates, "今日任务", rows))

    def help(self) -> Reply:
        return Reply(self.templates.render("help"))

    def event_of(self, session: Session, event_id: int) -> Event:
        return get_event(session, event_id)
