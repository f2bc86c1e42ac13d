"""Handler for inline buttons: act (and edit the message) or ask for the missing words.

A refusal or a second press is answered in a pop-up and changes nothing.
"""

from __future__ import annotations

import asyncio

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, ContextTypes

from responders.bot.handler_context import Prompt, actor_of, desk_of, prompts_of
from responders.desk import Reply
from responders.desk_commands import press_button
from responders.messages import clip_html
from responders.notifiers import Button

_ANSWER_LIMIT = 200  # answerCallbackQuery text limit


def _markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rows])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    actor = actor_of(update)
    reply = await asyncio.to_thread(press_button, desk_of(context), actor, query.data)
    message = query.message
    if reply.prompt and message is not None and actor.user_id is not None:
        prompts_of(context)[(message.chat.id, actor.user_id)] = Prompt(
            reply.prompt, message.chat.id, message.message_id, getattr(message, "text_html", None),
            getattr(message, "reply_markup", None))
        await query.answer(reply.text[:_ANSWER_LIMIT])
        await context.bot.send_message(message.chat.id, reply.text, reply_markup=ForceReply(selective=True))
        return
    await query.answer(reply.text[:_ANSWER_LIMIT], show_alert=not reply.changed)
    if reply.changed and message is not None:
        await edit_with_note(context, message.chat.id, message.message_id, getattr(message, "text_html", ""), reply,
                             getattr(message, "reply_markup", None))


async def edit_with_note(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int, html_text: str | None,
                         reply: Reply, existing: InlineKeyboardMarkup | None = None) -> None:
    """Append the reply's status line to the message; new buttons, or the old ones when the reply has none."""
    if not reply.note:
        return
    text = clip_html(f"{html_text or ''}\n\n<b>{reply.note}</b>".strip())
    if reply.buttons is None:
        markup = existing
    else:
        markup = _markup(reply.buttons) if reply.buttons else None
    await context.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                                        reply_markup=markup, disable_web_page_preview=True)


def handler() -> CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]:
    return CallbackQueryHandler(on_button)
