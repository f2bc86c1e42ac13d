"""Every action a person (or the service) takes, under one name from the chat label down to the table.

An action's name is, all at once: the :class:`~responders.desk.Desk` method, the text command
(``/acknowledge 12``), the button's data (``case:acknowledge:12``), the case transition and the
audit row's ``action``. :data:`ACTIONS` is the one table that maps each name to the words people
see: the button's word, what a refusal or the audit calls it, and the status line a pressed message
gains. Everything else looks the name up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Target(str, Enum):
    """What an action's number names (the first part of a button's data)."""

    case = "case"
    event = "event"
    clarification = "clarification"
    submission = "submission"
    digest_entry = "digest_entry"


@dataclass(frozen=True)
class Action:
    target: Target
    label: str  # what a refusal and the audit trail call it ("只有值班人员可以「确认预警」")
    button: str | None = None  # the word on its button; None: no button
    done: str | None = None  # the status line of a message whose button was pressed ("已签收")
    words: tuple[str, ...] = ()  # what follows the number, in order; the last word takes the rest of the line
    optional: bool = False  # the last word may be left out
    asks: bool = False  # its button asks for the words before acting
    typed: bool = True  # a person can type or press it; False: a step the service records itself
    numbered: bool = True  # typed as "/name N …"; False: the command takes text only (/submit)

    @property
    def arity(self) -> int:
        return len(self.words)


ACTIONS: dict[str, Action] = {
    # a department's case (department staff, or duty staff on its behalf)
    "open": Action(Target.case, "立案", typed=False),
    "notify": Action(Target.case, "通知", typed=False),
    "acknowledge": Action(Target.case, "签收", "签收", "已签收"),
    "extend": Action(Target.case, "延期", "申请延期", "已延期", ("reason",), asks=True),
    "respond": Action(Target.case, "回应", "提交回应", "已提交回应", ("response",), asks=True),
    "explain": Action(Target.case, "说明无法办理", None, "已说明无法办理", ("text",)),
    "reassign": Action(Target.case, "转办", "转办", "已转办", ("department", "reason"), asks=True),
    "reassign_requested": Action(Target.case, "申请转办", None, "已申请转办", typed=False),
    "dismiss": Action(Target.case, "撤销", None, "已撤销", ("reason",)),
    "close": Action(Target.case, "办结", None, "已办结"),
    # duty staff on an event
    "confirm": Action(Target.event, "确认预警", "确认", "已确认"),
    "ignore": Action(Target.event, "忽略预警", "忽略", None, ("reason",), optional=True),
    "assign": Action(Target.event, "指派部门", "指派", None, ("department",), asks=True),
    "consult": Action(Target.event, "发起会商", "会商", "已发起会商"),
    "digest": Action(Target.event, "编入摘要", "入摘要", "已入摘要"),
    "line": Action(Target.event, "记录统一口径", None, None, ("text",)),
    # reviewers on a clarification (审签)
    "approve": Action(Target.clarification, "审签澄清"),
    "reject": Action(Target.clarification, "退回澄清", None, None, ("reason",)),
    # duty staff on a digest entry
    "instruct": Action(Target.digest_entry, "记录领导批示", None, None, ("text",)),
    # a unit's submission (2006 §三): its liaison submits, editors adopt or decline, duty staff digest it
    "submit": Action(Target.submission, "报送信息", words=("text",), numbered=False),
    "adopt": Action(Target.submission, "采用", "采用", None, ("bonus",), optional=True),
    "decline": Action(Target.submission, "退回", "退回", "已退回", ("reason",), asks=True),
    "digest_submission": Action(Target.submission, "编入摘要", "入摘要"),
    "undo_adoption": Action(Target.submission, "撤销采用", typed=False),
    "publish": Action(Target.submission, "门户刊发", typed=False),
}

# Button data sent before the names were unified ("a:ack:12") still works on messages already in chats.
LEGACY_TARGETS = {"a": Target.case, "e": Target.event, "s": Target.submission}
LEGACY_NAMES = {"ack": "acknowledge", "digestsub": "digest_submission"}


def button_data(name: str, number: int) -> str:
    """What a button for *name* on *number* carries: ``case:acknowledge:12``."""
    return f"{ACTIONS[name].target.value}:{name}:{number}"
