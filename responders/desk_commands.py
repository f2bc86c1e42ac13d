"""Text commands (``/acknowledge 12``), button data (``case:acknowledge:12``) and the answers to a
button's question → one :func:`perform` call of the :class:`Desk` method of the same name.

Telegram, the vendor chats and the console all come through here, so a command typed in a terminal
and a button pressed in a chat do exactly the same thing; the web desk calls the same methods.
Errors a person can fix come back as the reply text, never as a traceback; any other
error is logged and answered with a short apology naming the command, so whoever reads
the commands (the console reader, the bot) goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from responders.actions import ACTIONS, LEGACY_NAMES, LEGACY_TARGETS, Target
from responders.cases import Actor
from responders.desk import Desk, Pending, Reply
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


def _words(rest: str, arity: int) -> list[str]:
    """*arity* words from *rest*, the last of which keeps the rest of the line."""
    return rest.split(maxsplit=arity - 1) if arity and rest.strip() else []


def perform(desk: Desk, actor: Actor, name: str, number: int, rest: str = "") -> Reply:
    """Call the :class:`Desk` method *name* on *number* with the words of *rest*: the one way in for a
    typed command, a pressed button and the answer to a button's question."""
    spec = ACTIONS[name]
    words = _words(rest, spec.arity)
    if len(words) < spec.arity - (1 if spec.optional else 0):
        raise BadCommand(reply="usage", command=name)
    if any(len(word) > MAX_TEXT for word in words):
        raise BadCommand(reply="too_long", max_text=MAX_TEXT)
    method: Callable[..., Reply] = getattr(desk, name)
    return method(actor, number, *words[:spec.arity])


COMMANDS = frozenset(name for name, spec in ACTIONS.items() if spec.typed and spec.numbered)
# Commands whose first word is not a number: they take the rest of the line as it is.
TEXT_COMMANDS: dict[str, Callable[[Desk, Actor, str], Reply]] = {"submit": Desk.submit}
VIEWS: dict[str, Callable[[Desk], Reply]] = {
    "status": Desk.status, "today": Desk.today, "overdue": Desk.overdue, "help": Desk.help, "start": Desk.help,
}
NUMBERED_VIEWS: dict[str, Callable[[Desk, int], Reply]] = {"cases": Desk.cases}  # /cases 12: event 12's cases


def parse(text: str) -> tuple[str, str]:
    """Split ``/cmd@bot 12 rest of line`` into ("cmd", "12 rest of line")."""
    text = text.strip()
    if not text.startswith("/"):
        raise BadCommand(reply="not_a_command")
    head, _, rest = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


def run_command(desk: Desk, actor: Actor, text: str) -> Reply:
    """Run one text command; typed errors become the reply, anything else an apology."""
    name = "?"
    try:
        name, rest = parse(text)
        if name in VIEWS:
            return VIEWS[name](desk)
        if name in TEXT_COMMANDS:
            return TEXT_COMMANDS[name](desk, actor, rest)
        if name not in COMMANDS and name not in NUMBERED_VIEWS:
            raise BadCommand(reply="unknown_command", command=name[:32])
        first, _, words = rest.partition(" ")
        if not first:
            raise BadCommand(reply="usage", command=name)
        number = parse_id(first, name)
        if name in NUMBERED_VIEWS:
            return NUMBERED_VIEWS[name](desk, number)
        return perform(desk, actor, name, number, words)
    except ResponderError as exc:
        return refusal(desk, exc)
    except Exception:
        log.exception("command %r by %s failed", text[:200], actor.name)
        return apology(desk, name)


@dataclass(frozen=True)
class ButtonPress:
    """A button's data, ``case:acknowledge:12``, read into the action's name and its number."""

    name: str
    number: int

    @classmethod
    def parse(cls, data: str) -> ButtonPress:
        target, name, number = (data.split(":") + ["", "", ""])[:3]
        name = LEGACY_NAMES.get(name, name)
        spec = ACTIONS.get(name)
        named = LEGACY_TARGETS.get(target) or next((t for t in Target if t.value == target), None)
        if spec is None or not spec.typed or spec.button is None or spec.target is not named:
            raise BadCommand(reply="unknown_button", data=data[:64])
        return cls(name, parse_id(number, "button"))


def press_button(desk: Desk, actor: Actor, data: str) -> Reply:
    """A button press: act at once, or check the actor and ask for the missing words."""
    try:
        press = ButtonPress.parse(data)
        if not ACTIONS[press.name].asks:
            return perform(desk, actor, press.name, press.number)
        desk.preflight(actor, press.name, press.number)
        question = desk.templates.reply("prompt", action=press.name, n=press.number)
        return Reply(question, prompt=Pending(press.name, press.number))
    except ResponderError as exc:
        return refusal(desk, exc)
    except Exception:
        log.exception("button %r by %s failed", data[:64], actor.name)
        return apology(desk, data.split(":")[1] if data.count(":") >= 2 else "?")


def answer_prompt(desk: Desk, actor: Actor, pending: Pending, text: str) -> Reply:
    """The words a button asked for, typed in the next message: the same call as the typed command."""
    try:
        return perform(desk, actor, pending.action, pending.number, text.strip())
    except ResponderError as exc:
        return refusal(desk, exc)
    except Exception:
        log.exception("answer to %s %d by %s failed", pending.action, pending.number, actor.name)
        return apology(desk, pending.action)
