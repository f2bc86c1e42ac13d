"""The error handler: log first (with the update), then tell the user something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("bot: error while handling %r", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        text = update.effective_message.text or ""
        command = text.split()[0][:32] if text.startswith("/") else "该操作"
        try:
            await update.effective_message.reply_text(
                f"抱歉，{command} 执行时出错，未执行；已记录日志，请联系值班人员。"
            )
        except Exception:  # the chat API itself may be what failed
            log.warning("bot: could not tell the user about the error", exc_info=True)
