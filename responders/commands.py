"""Text commands (``/ack 12``) and button data (``a:ack:12``) → :class:`Desk` calls.

The bot and the console both go through :func:`dispatch`, so a command typed
in a terminal and a button pressed in Telegram do exactly the same thing.
Errors a person can fix come back as the reply text, never as a traceback; any other
error is logged and answered with a short apology naming the command, so whoever reads
the commands (the console reader, the bot) goes on.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from responders.assignments import Actor
from responders.desk import Desk, Reply
from responders.errors import AlreadyDone, BadCommand, ResponderError

log = logging.getLogger(__name__)

MAX_ID = 2**31 - 1  # the store's integer keys (PostgreSQL INTEGER)
MAX_TEXT = 4000  # characters of a command's free text (a reason, a 口径, a link)
_ID = re.compile(r"#?([0-9]{1,10})", re.ASCII)


def parse_id(word: str, usage: str) -> int:
    """A positive id that fits the store's integer, written in ASCII digits (``12`` or ``#12``)."""
    match = _ID.fullmatch(word)
    number = int(match.group(1)) if match else 0
    if not 1 <= number <= MAX_ID:
        raise BadCommand(f"编号应为 1 到 {MAX_ID} 之间的整数。用法：{usage}")
    return number


def apology(name: str) -> Reply:
    """What a person sees when a handler failed in a way nobody foresaw (the log has the details)."""
    return Reply(f"抱歉，/{html.escape(name[:32])} 执行时出错，未执行；已记录日志，请稍后再试或联系值班人员。")


@dataclass(frozen=True)
class Spec:
    usage: str
    arity: int  # words after the number; the last one takes the rest of the line
    run: Callable[[Desk, Actor, int, list[str]], Reply]
    optional_rest: bool = False


def _rest(words: list[str], i: int) -> str:
    return words[i] if len(words) > i else ""


COMMANDS: dict[str, Spec] = {
    "ack": Spec("/ack 任务号", 0, lambda d, a, n, w: d.acknowledge(a, n)),
    "respond": Spec("/respond 任务号 链接或文字", 1, lambda d, a, n, w: d.respond(a, n, w[0])),
    "extend": Spec("/extend 任务号 理由", 1, lambda d, a, n, w: d.extend(a, n, w[0])),
    "explain": Spec("/explain 任务号 说明", 1, lambda d, a, n, w: d.explain(a, n, w[0])),
    "reassign": Spec("/reassign 任务号 部门 理由", 2, lambda d, a, n, w: d.reassign(a, n, w[0], w[1])),
    "dismiss": Spec("/dismiss 任务号 理由", 1, lambda d, a, n, w: d.dismiss(a, n, w[0])),
    "close": Spec("/close 任务号", 0, lambda d, a, n, w: d.close(a, n)),
    "confirm": Spec("/confirm 事件号", 0, lambda d, a, n, w: d.confirm(a, n)),
    "ignore": Spec("/ignore 事件号 [理由]", 1, lambda d, a, n, w: d.ignore(a, n, _rest(w, 0)), True),
    "assign": Spec("/assign 事件号 部门", 1, lambda d, a, n, w: d.assign(a, n, w[0])),
    "consult": Spec("/consult 事件号", 0, lambda d, a, n, w: d.consult(a, n)),
    "digest": Spec("/digest 事件号", 0, lambda d, a, n, w: d.digest(a, n)),
    "instruct": Spec("/instruct 摘要条目号 批示内容", 1, lambda d, a, n, w: d.instruct(a, n, w[0])),
    "approve": Spec("/approve 澄清号", 0, lambda d, a, n, w: d.approve(a, n)),
    "reject": Spec("/reject 澄清号 理由", 1, lambda d, a, n, w: d.reject(a, n, w[0])),
    "line": Spec("/line 事件号 口径", 1, lambda d, a, n, w: d.line(a, n, w[0])),
    "case": Spec("/case 事件号", 0, lambda d, a, n, w: d.case(n)),
    "adopt": Spec("/adopt 报送号 [加分类别：访谈/网评/视频/标题]", 1, lambda d, a, n, w: d.adopt(a, n, _rest(w, 0)),
                  True),
    "decline": Spec("/decline 报送号 理由", 1, lambda d, a, n, w: d.decline(a, n, w[0])),
    "digestsub": Spec("/digestsub 报送号", 0, lambda d, a, n, w: d.digest_submission(a, n)),
}
# Commands whose first word is not a number: they take the rest of the line as it is.
TEXT_COMMANDS: dict[str, Callable[[Desk, Actor, str], Reply]] = {"submit": Desk.submit}
VIEWS: dict[str, Callable[[Desk], Reply]] = {
    "status": Desk.status, "today": Desk.today, "overdue": Desk.overdue, "help": Desk.help, "start": Desk.help,
}
# Buttons whose action needs words the button cannot carry: the bot asks for them.
PROMPTS = {
    "respond": ("respond", "请回复本消息，发送回应的链接或文字（任务 #{n}）"),
    "extend": ("extend", "请回复延期理由（情况复杂，需延长至15个工作日）（任务 #{n}）"),
    "reassign": ("reassign", "请回复：转办目标部门 理由（例如：省交通厅 不属于本部门职责）（任务 #{n}）"),
    "assign": ("assign", "请回复要指派的部门全称（事件 {n}）"),
    "decline": ("decline", "请回复退回理由（报送 #{n}），以便单位修改后重报"),
}
PREFLIGHT_ACTION = {"respond": "respond", "extend": "extend", "reassign": "reassign"}


def parse(text: str) -> tuple[str, list[str]]:
    """Split ``/cmd@bot 12 rest of line`` into ("cmd", ["12", "rest of line"])."""
    text = text.strip()
    if not text.startswith("/"):
        raise BadCommand("命令以 / 开头，发送 /help 查看用法")
    head, _, rest = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), ([rest.strip()] if rest.strip() else [])


def _split(args: str, arity: int) -> list[str]:
    """The number, then *arity* words, the last of which keeps the rest of the line."""
    if arity == 0:
        return args.split()[:1]
    parts = args.split(maxsplit=arity)
    return parts


def run_command(desk: Desk, actor: Actor, text: str) -> Reply:
    """Run one text command; typed errors become the reply, anything else an apology."""
    name = "?"
    try:
        name, rest = parse(text)
        if name in VIEWS:
            return VIEWS[name](desk)
        if name in TEXT_COMMANDS:
            return TEXT_COMMANDS[name](desk, actor, rest[0] if rest else "")
        spec = COMMANDS.get(name)
        if spec is None:
            raise BadCommand(f"未知命令 /{name[:32]}，发送 /help 查看用法")
        words = _split(rest[0] if rest else "", spec.arity)
        if not words:
            raise BadCommand(f"用法：{spec.usage}")
        number = parse_id(words[0], spec.usage)
        args = words[1:]
        if len(args) < spec.arity and not spec.optional_rest:
            raise BadCommand(f"用法：{spec.usage}")
        if any(len(arg) > MAX_TEXT for arg in args):
            raise BadCommand(f"文字过长（最多 {MAX_TEXT} 字）")
        return spec.run(desk, actor, number, args)
    except AlreadyDone as exc:
        return Reply(html.escape(str(exc)))
    except ResponderError as exc:
        return Reply(f"未执行：{html.escape(str(exc))}")
    except Exception:
        log.exception("command %r by %s failed", text[:200], actor.name)
        return apology(name)


@dataclass(frozen=True)
class ButtonPress:
    scope: str  # "a" assignment, "e" event, "s" submission
    action: str
    number: int

    @classmethod
    def parse(cls, data: str) -> ButtonPress:
        scope, action, number = (data.split(":") + ["", "", ""])[:3]
        if scope not in ("a", "e", "s") or action not in COMMANDS:
            raise BadCommand(f"无法识别的按钮 {data[:64]!r}")
        return cls(scope, action, parse_id(number, "按钮"))


def press_button(desk: Desk, actor: Actor, data: str) -> Reply:
    """A button press: act at once, or check the actor and ask for the missing words."""
    try:
        press = ButtonPress.parse(data)
        if press.action in PROMPTS:
            if press.action in PREFLIGHT_ACTION:
                desk.preflight(actor, press.number, PREFLIGHT_ACTION[press.action])
            else:
                from responders.auth import require_duty

                require_duty(desk.members, actor, "退回报送信息" if press.action == "decline" else "指派部门")
            command, question = PROMPTS[press.action]
            return Reply(question.format(n=press.number), prompt=f"/{command} {press.number}")
        return run_command(desk, actor, f"/{press.action} {press.number}")
    except AlreadyDone as exc:
        return Reply(html.escape(str(exc)))
    except ResponderError as exc:
        return Reply(f"未执行：{html.escape(str(exc))}")
    except Exception:
        log.exception("button %r by %s failed", data[:64], actor.name)
        return apology(data.split(":")[1] if data.count(":") >= 2 else "按钮")
