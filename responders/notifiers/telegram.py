"""Telegram backend: python-telegram-bot's ``Bot``; maps its errors to transient or permanent."""

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
from responders.notifiers import Button, Outgoing

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
        return DeliveryError(f"Telegram 限流：{exc}", permanent=False, retry_after=_retry_after(exc))
    if isinstance(exc, ChatMigrated):
        return DeliveryError(f"群已升级为超级群，新 chat id {exc.new_chat_id}：请更新 members.yaml",
                             permanent=True)
    if isinstance(exc, (Forbidden, InvalidToken)):
        return DeliveryError(f"Telegram 拒绝（机器人被移出群或令牌无效）：{exc}", permanent=True)
    if isinstance(exc, BadRequest):
        return DeliveryError(f"Telegram 拒收此消息：{exc}", permanent=True)
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return DeliveryError(f"Telegram 网络错误：{exc}", permanent=False)
    return DeliveryError(f"Telegram 错误：{exc}", permanent=False)


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
                    message.chat_id, data, filename=path.name, caption=message.text[:1024],
                    parse_mode=ParseMode.HTML, reply_markup=_markup(message.buttons))
            else:
                sent = await self.bot.send_message(
                    message.chat_id, message.text, parse_mode=ParseMode.HTML,
                    reply_markup=_markup(message.buttons), disable_web_page_preview=True)
        except TelegramError as exc:
            raise classify(exc) from exc
        except FileNotFoundError as exc:
            raise DeliveryError(f"附件不存在：{message.attachment_path}", permanent=True) from exc
        return str(sent.message_id)

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=int(message_id),
                                             parse_mode=ParseMode.HTML, reply_markup=_markup(buttons),
                                             disable_web_page_preview=True)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            raise classify(exc) from exc
        except TelegramError as exc:
            raise classify(exc) from exc
