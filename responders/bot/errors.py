"""The error handler: log first (with the update), then tell the user something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from responders.bot.handler_context import desk_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("bot: error while handling %r", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        text = update.effective_message.text or ""
        command = text.split()[0][:32] if text.startswith("/") else None
        try:
            await update.effective_message.reply_text(desk_of(context).templates.plain("handler_failed",
                                                                                       command=command))
        except Exception:  # the chat API itself (or the desk) may be what failed
            log.warning("bot: could not tell the user about the error", exc_info=True)
