"""The one conversation every vendor backend talks to: presses and text lines in, outcomes out.

Button data, the answers to a button's question and text commands go through
:func:`responders.desk_commands.press_button`, :func:`~responders.desk_commands.answer_prompt` and
:func:`~responders.desk_commands.run_command`, exactly as on Telegram and the console. What differs per
vendor is only how an :class:`Outcome` is shown: a card edited in place, a private answer, a question.
The calls touch the store, so vendors run them in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from playbooks.members import Members
from responders.cases import Actor
from responders.desk import Desk, Pending, Reply
from responders.desk_commands import answer_prompt, press_button, run_command
from responders.errors import DeliveryError
from responders.messages import clip_html
from responders.notifiers import Button, buttons_from_json
from responders.views import Buttons
from store.database import session_scope
from store.models import OutboxMessage


@dataclass(frozen=True)
class Card:
    """A message we sent that carries buttons: the chat (as the members file numbers it) and its id."""

    chat_id: str
    message_id: str


@dataclass(frozen=True)
class Outcome:
    """What to show after a press or a line: the answer, and the card's new face when it changed."""

    answer: str  # HTML, as the desk writes it
    changed: bool = False
    card: Card | None = None
    text: str | None = None  # the card's new text (HTML) when it is to be edited
    buttons: Buttons = ()
    asks: bool = False  # the answer is a question; the person's next line completes it
    note: str | None = None  # the status line added to the card
    token: str | None = None  # the vendor's handle for editing the card (WeCom's response code of the press)

    @property
    def edits(self) -> bool:
        return self.card is not None and self.text is not None


@dataclass(frozen=True)
class _Prompt:
    pending: Pending
    card: Card | None
    token: str | None


log = logging.getLogger(__name__)


class CardEditor(Protocol):
    """A vendor notifier that edits a card it sent and answers one person privately (DingTalk, Feishu)."""

    async def edit(self, chat_id: str, message_id: str, text: str, buttons: Buttons = ()) -> None: ...

    async def tell(self, user: str, text: str) -> None: ...


async def show_outcome(notifier: CardEditor, vendor: str, user: str, outcome: Outcome) -> None:
    """Edit the card in place, and answer privately when nothing changed or a question is asked."""
    try:
        if outcome.edits and outcome.card is not None and outcome.text is not None:
            await notifier.edit(outcome.card.chat_id, outcome.card.message_id, outcome.text, outcome.buttons)
        if not outcome.changed or outcome.asks or not outcome.edits:
            await notifier.tell(user, outcome.answer)
    except DeliveryError as exc:  # the change is stored; only showing it failed
        log.warning("%s: could not show the answer to %s: %s", vendor, user, exc)


def actor_for(members: Members, vendor: str, vendor_user: str, chat_id: str | None) -> Actor:
    """The person behind a vendor's user id, named for the audit trail like the Telegram bot does."""
    person = members.person_of(vendor, vendor_user)
    if person is None:
        return Actor(f"{vendor}:{vendor_user[:64]}", None, chat_id)
    return Actor(f"{members.name_of(person) or vendor_user} ({person})", person, chat_id)


class Conversation:
    """Presses, prompts and commands for the vendor backends; card faces are remembered per message."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._prompts: dict[tuple[str, str], _Prompt] = {}
        self._faces: dict[Card, tuple[str, Buttons]] = {}
        self._lock = threading.Lock()

    def press(self, vendor: str, vendor_user: str, actor: Actor, data: str, card: Card | None,
              token: str | None = None) -> Outcome:
        """A button pressed on *card*: act, or ask for the missing words, or say why not."""
        reply = press_button(self.desk, actor, data)
        if reply.prompt:
            with self._lock:
                self._prompts[(vendor, vendor_user)] = _Prompt(reply.prompt, card, token)
            return Outcome(reply.text, asks=True, card=card)
        return self._outcome(reply, card, token)

    def say(self, vendor: str, vendor_user: str, actor: Actor, text: str) -> Outcome | None:
        """A line typed to the bot: a command, or the answer to the last question; None for chatter."""
        text = text.strip()
        with self._lock:
            prompt = None if text.startswith("/") else self._prompts.pop((vendor, vendor_user), None)
        if prompt is not None:
            if prompt.card is not None:  # the answer belongs to the card's chat, as on Telegram
                actor = Actor(actor.name, actor.user_id, prompt.card.chat_id)
            return self._outcome(answer_prompt(self.desk, actor, prompt.pending, text), prompt.card, prompt.token)
        if not text.startswith("/"):
            return None
        return Outcome(run_command(self.desk, actor, text).text)

    def face(self, card: Card) -> tuple[str, Buttons]:
        """The card's text and buttons as last shown (from the outbox row when this process never edited it)."""
        with self._lock:
            known = self._faces.get(card)
        if known is not None:
            return known
        with session_scope(self.desk.sessions) as session:
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == card.chat_id,
                                                      OutboxMessage.message_id == card.message_id)).first()
            if row is None:
                return "", ()
            return row.text, buttons_from_json(row.buttons)

    def chat_of(self, message_id: str) -> str | None:
        """The chat (as the members file numbers it) a message we sent went to, from the outbox."""
        if not message_id:
            return None
        with session_scope(self.desk.sessions) as session:
            return session.scalar(select(OutboxMessage.chat_id).where(OutboxMessage.message_id == message_id))

    def _outcome(self, reply: Reply, card: Card | None, token: str | None = None) -> Outcome:
        if not (reply.changed and reply.note and card is not None):
            return Outcome(reply.text, reply.changed, card, token=token)
        text, buttons = self.face(card)
        text = clip_html(f"{text}\n\n<b>{reply.note}</b>".strip())
        new_buttons: Buttons = buttons if reply.buttons is None else reply.buttons
        with self._lock:
            self._faces[card] = (text, new_buttons)
        return Outcome(reply.text, True, card, text, new_buttons, note=reply.note, token=token)


def flat(buttons: Buttons) -> list[Button]:
    """Buttons in one row, for vendors whose cards take a plain list."""
    return [b for row in buttons for b in row]
