"""Handler for plain messages that answer a button's question (the response link, a reason)."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, MessageHandler, filters

from responders.bot.buttons import edit_with_note
from responders.bot.handler_context import actor_of, desk_of, prompts_of
from responders.desk_commands import answer_prompt
from responders.messages import clip_html


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    actor = actor_of(update)
    if message is None or not message.text or actor.user_id is None:
        return
    prompt = prompts_of(context).pop((message.chat.id, actor.user_id), None)
    if prompt is None:
        return  # ordinary chat in the group: not for us
    reply = await asyncio.to_thread(answer_prompt, desk_of(context), actor, prompt.pending, message.text)
    await message.reply_text(clip_html(reply.text), parse_mode=ParseMode.HTML)
    if reply.changed and prompt.message_id is not None and prompt.message_chat_id is not None:
        await edit_with_note(context, prompt.message_chat_id, prompt.message_id, prompt.message_html, reply,
                             prompt.message_markup)


def handler() -> MessageHandler[ContextTypes.DEFAULT_TYPE, None]:
    return MessageHandler(filters.TEXT & ~filters.COMMAND, on_reply)
