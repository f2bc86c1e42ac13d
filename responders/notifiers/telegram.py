"""Telegram backend: python-telegram-bot's ``Bot``; maps its errors to transient or permanent.

Text and captions are clipped to Telegram's own limits without breaking the HTML (tags closed, no
entity cut); refusals are written for the operator (logs, the outbox's last error), in English.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import warnings
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from responders.errors import DeliveryError
from responders.messages import clip_html
from responders.notifiers import Button, Outgoing

# Bot API, sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing";
# sendDocument: "Document caption ..., 0-1024 characters after entities parsing" (core.telegram.org/bots/api).
# Telegram counts UTF-16 code units; we count the tags too, which only clips a little earlier.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

# Opt in to PTB's timedelta durations (the v23 behaviour): without it PTB warns each time
# it builds a RetryAfter, and flood control is exactly when we must not trip over a warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")


def _markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rows])


def _retry_after(exc: RetryAfter) -> dt.timedelta:
    with warnings.catch_warnings():  # PTB 22 warns about int vs timedelta; we accept both
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=float(value))


def classify(exc: TelegramError) -> DeliveryError:
    """Which Telegram errors are worth retrying."""
    if isinstance(exc, RetryAfter):
        return DeliveryError(f"Telegram flood control: {exc}", permanent=False, retry_after=_retry_after(exc))
    if isinstance(exc, ChatMigrated):
        return DeliveryError(f"the group became a supergroup, new chat id {exc.new_chat_id}: update members.yaml",
                             permanent=True)
    if isinstance(exc, (Forbidden, InvalidToken)):
        return DeliveryError(f"Telegram refused (bot removed from the chat, or a bad token): {exc}", permanent=True)
    if isinstance(exc, BadRequest):
        return DeliveryError(f"Telegram refused this message: {exc}", permanent=True)
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return DeliveryError(f"Telegram network error: {exc}", permanent=False)
    return DeliveryError(f"Telegram error: {exc}", permanent=False)


class TelegramNotifier:
    """Sends through a ``telegram.Bot`` (the same one the Application uses)."""

    name = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: Outgoing) -> str:
        try:
            if message.attachment_path:
                path = Path(message.attachment_path)
                data = await asyncio.to_thread(path.read_bytes)
                sent = await self.bot.send_document(
                    message.chat_id, data, filename=path.name, caption=clip_html(message.text, CAPTION_LIMIT),
                    parse_mode=ParseMode.HTML, reply_markup=_markup(message.buttons))
            else:
                sent = await self.bot.send_message(
                    message.chat_id, clip_html(message.text, TEXT_LIMIT), parse_mode=ParseMode.HTML,
                    reply_markup=_markup(message.buttons), disable_web_page_preview=True)
        except TelegramError as exc:
            raise classify(exc) from exc
        except FileNotFoundError as exc:
            raise DeliveryError(f"attachment not found: {message.attachment_path}", permanent=True) from exc
        return str(sent.message_id)

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        try:
            await self.bot.edit_message_text(clip_html(text, TEXT_LIMIT), chat_id=chat_id, message_id=int(message_id),
                                             parse_mode=ParseMode.HTML, reply_markup=_markup(buttons),
                                             disable_web_page_preview=True)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            raise classify(exc) from exc
        except TelegramError as exc:
            raise classify(exc) from exc
