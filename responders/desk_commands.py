"""Text commands (``/ack 12``) and button data (``a:ack:12``) → :class:`Desk` calls.

The bot and the console both go through :func:`dispatch`, so a command typed
in a terminal and a button pressed in Telegram do exactly the same thing.
Errors a person can fix come back as the reply text, never as a traceback; any other
error is logged and answered with a short apology naming the command, so whoever reads
the commands (the console reader, the bot) goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from responders.assignments import Actor
from responders.desk import DUTY_ACTIONS, Desk, Reply
from responders.errors import AlreadyDone, BadCommand, ResponderError

log = logging.getLogger(__name__)

MAX_ID = 2**31 - 1  # the store's integer keys (PostgreSQL INTEGER)
MAX_TEXT = 4000  # characters of a command's free text (a reason, a 口径, a link)
_ID = re.compile(r"#?([0-9]{1,10})", re.ASCII)


def parse_id(word: str, command: str) -> int:
    """A positive id that fits the store's integer, written in ASCII digits (``12`` or ``#12``).

    *command* names the usage line shown when it is not (the playbook's ``replies.usage``).
    """
    match = _ID.fullmatch(word)
    number = int(match.group(1)) if match else 0
    if not 1 <= number <= MAX_ID:
        raise BadCommand(reply="bad_id", max_id=MAX_ID, command=command)
    return number


def apology(desk: Desk, name: str) -> Reply:
    """What a person sees when a handler failed in a way nobody foresaw (the log has the details)."""
    return Reply(desk.templates.reply("apology", command=f"/{name[:32]}"))


def refusal(desk: Desk, exc: ResponderError) -> Reply:
    """A typed error as the reply: a repeated press says so; anything else says what was not done and why."""
    said = desk.templates.said(exc)
    return Reply(said if isinstance(exc, AlreadyDone) else desk.templates.reply("not_done", reason=said))


@dataclass(frozen=True)
class Spec:
    arity: int  # words after the number; the last one takes the rest of the line
    run: Callable[[Desk, Actor, int, list[str]], Reply]
    optional_rest: bool = False


def _rest(words: list[str], i: int) -> str:
    return words[i] if len(words) > i else ""


COMMANDS: dict[str, Spec] = {
    "ack": Spec(0, lambda d, a, n, w: d.acknowledge(a, n)),
    "respond": Spec(1, lambda d, a, n, w: d.respond(a, n, w[0])),
    "extend": Spec(1, lambda d, a, n, w: d.extend(a, n, w[0])),
    "explain": Spec(1, lambda d, a, n, w: d.explain(a, n, w[0])),
    "reassign": Spec(2, lambda d, a, n, w: d.reassign(a, n, w[0], w[1])),
    "dismiss": Spec(1, lambda d, a, n, w: d.dismiss(a, n, w[0])),
    "close": Spec(0, lambda d, a, n, w: d.close(a, n)),
    "confirm": Spec(0, lambda d, a, n, w: d.confirm(a, n)),
    "ignore": Spec(1, lambda d, a, n, w: d.ignore(a, n, _rest(w, 0)), True),
    "assign": Spec(1, lambda d, a, n, w: d.assign(a, n, w[0])),
    "consult": Spec(0, lambda d, a, n, w: d.consult(a, n)),
    "digest": Spec(0, lambda d, a, n, w: d.digest(a, n)),
    "instruct": Spec(1, lambda d, a, n, w: d.instruct(a, n, w[0])),
    "approve": Spec(0, lambda d, a, n, w: d.approve(a, n)),
    "reject": Spec(1, lambda d, a, n, w: d.reject(a, n, w[0])),
    "line": Spec(1, lambda d, a, n, w: d.line(a, n, w[0])),
    "case": Spec(0, lambda d, a, n, w: d.case(n)),
    "adopt": Spec(1, lambda d, a, n, w: d.adopt(a, n, _rest(w, 0)),
                  True),
    "decline": Spec(1, lambda d, a, n, w: d.decline(a, n, w[0])),
    "digestsub": Spec(0, lambda d, a, n, w: d.digest_submission(a, n)),
}
# Commands whose first word is not a number: they take the rest of the line as it is.
TEXT_COMMANDS: dict[str, Callable[[Desk, Actor, str], Reply]] = {"submit": Desk.submit}
VIEWS: dict[str, Callable[[Desk], Reply]] = {
    "status": Desk.status, "today": Desk.today, "overdue": Desk.overdue, "help": Desk.help, "start": Desk.help,
}
# Buttons whose action needs words the button cannot carry: the bot asks for them (the playbook's
# ``replies.prompt``) and completes this command with the answer.
PROMPTS = {"respond": "respond", "extend": "extend", "reassign": "reassign", "assign": "assign", "decline": "decline"}
PREFLIGHT_ACTION = {"respond": "respond", "extend": "extend", "reassign": "reassign"}


def parse(text: str) -> tuple[str, list[str]]:
    """Split ``/cmd@bot 12 rest of line`` into ("cmd", ["12", "rest of line"])."""
    text = text.strip()
    if not text.startswith("/"):
        raise BadCommand(reply="not_a_command")
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
            raise BadCommand(reply="unknown_command", command=name[:32])
        words = _split(rest[0] if rest else "", spec.arity)
        if not words:
            raise BadCommand(reply="usage", command=name)
        number = parse_id(words[0], name)
        args = words[1:]
        if len(args) < spec.arity and not spec.optional_rest:
            raise BadCommand(reply="usage", command=name)
        if any(len(arg) > MAX_TEXT for arg in args):
            raise BadCommand(reply="too_long", max_text=MAX_TEXT)
        return spec.run(desk, actor, number, args)
    except ResponderError as exc:
        return refusal(desk, exc)
    except Exception:
        log.exception("command %r by %s failed", text[:200], actor.name)
        return apology(desk, name)


@dataclass(frozen=True)
class ButtonPress:
    scope: str  # "a" assignment, "e" event, "s" submission
    action: str
    number: int

    @classmethod
    def parse(cls, data: str) -> ButtonPress:
        scope, action, number = (data.split(":") + ["", "", ""])[:3]
        if scope not in ("a", "e", "s") or action not in COMMANDS:
            raise BadCommand(reply="unknown_button", data=data[:64])
        return cls(scope, action, parse_id(number, "button"))


def press_button(desk: Desk, actor: Actor, data: str) -> Reply:
    """A button press: act at once, or check the actor and ask for the missing words."""
    try:
        press = ButtonPress.parse(data)
        if press.action in PROMPTS:
            if press.action in PREFLIGHT_ACTION:
                desk.preflight(actor, press.number, PREFLIGHT_ACTION[press.action])
            else:
                from responders.auth import require_duty

                require_duty(desk.members, actor, DUTY_ACTIONS[press.action])
            question = desk.templates.reply("prompt", action=press.action, n=press.number)
            return Reply(question, prompt=f"/{PROMPTS[press.action]} {press.number}")
        return run_command(desk, actor, f"/{press.action} {press.number}")
    except ResponderError as exc:
        return refusal(desk, exc)
    except Exception:
        log.exception("button %r by %s failed", data[:64], actor.name)
        return apology(desk, data.split(":")[1] if data.count(":") >= 2 else "?")
