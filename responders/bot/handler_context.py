"""What every handler needs: the desk, the actor behind an update, pending prompts."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from responders.cases import Actor
from responders.desk import Desk, Pending

DESK_KEY = "desk"
PROMPTS_KEY = "prompts"


@dataclass(frozen=True)
class Prompt:
    """A button asked for more words; the user's next message in that chat completes *pending*."""

    pending: Pending
    message_chat_id: int | None = None
    message_id: int | None = None
    message_html: str | None = None
    message_markup: InlineKeyboardMarkup | None = None


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    desk: Desk = context.application.bot_data[DESK_KEY]
    return desk


def prompts_of(context: ContextTypes.DEFAULT_TYPE) -> dict[tuple[int, int], Prompt]:
    prompts: dict[tuple[int, int], Prompt] = context.application.bot_data.setdefault(PROMPTS_KEY, {})
    return prompts


def actor_of(update: Update) -> Actor:
    """The person behind *update*, named for the audit trail."""
    user = update.effective_user
    chat = update.effective_chat
    chat_id = str(chat.id) if chat else None
    if user is None:
        return Actor("unknown", None, chat_id)
    name = user.full_name or user.username or str(user.id)
    return Actor(f"{name} ({user.id})", user.id, chat_id)
