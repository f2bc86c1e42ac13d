"""The Telegram bot: python-telegram-bot 22 Application with one handler per module.

Handlers do no business logic: they turn an update into an :class:`Actor` and
a command string, call :mod:`responders.desk_commands` (the same path the console
uses) in a worker thread, since the desk reads and writes the store, and show the
:class:`~responders.desk.Reply`.
"""

from responders.bot.telegram_app import build_application

__all__ = ["build_application"]
