"""Handler for every slash command: /acknowledge, /respond, /status, /cases … (one dispatcher, one table)."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, ContextTypes

from responders.bot.handler_context import actor_of, desk_of
from responders.desk_commands import COMMANDS, NUMBERED_VIEWS, TEXT_COMMANDS, VIEWS, run_command
from responders.messages import clip_html


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    reply = await asyncio.to_thread(run_command, desk_of(context), actor_of(update), message.text)
    await message.reply_text(clip_html(reply.text), parse_mode=ParseMode.HTML, disable_web_page_preview=True)


def handler() -> CommandHandler[ContextTypes.DEFAULT_TYPE, None]:
    return CommandHandler(sorted({*COMMANDS, *TEXT_COMMANDS, *VIEWS, *NUMBERED_VIEWS}), on_command)
