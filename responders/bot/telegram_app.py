"""Build the python-telegram-bot Application: token and Bot API URL in, handlers registered."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, ApplicationBuilder

from responders.bot import buttons, command_handlers, errors, replies
from responders.bot.handler_context import DESK_KEY
from responders.desk import Desk
from responders.notifiers.telegram import TelegramNotifier

__all__ = ["TelegramNotifier", "build_application"]


def build_application(token: str, base_url: str, desk: Desk) -> Application[Any, Any, Any, Any, Any, Any]:
    """An Application talking to *base_url* (``https://api.telegram.org/bot`` or a fake on loopback)."""
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    app.bot_data[DESK_KEY] = desk
    app.add_handler(command_handlers.handler())
    app.add_handler(buttons.handler())
    app.add_handler(replies.handler())
    app.add_error_handler(errors.on_error)
    return app
