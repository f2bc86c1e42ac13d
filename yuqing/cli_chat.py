"""``yuqing chat check``: one test message to the duty chat, to see that the chat backend is set up."""

from __future__ import annotations

import asyncio
import datetime as dt

import click

from yuqing.cli_context import Context, pass_context
from yuqing.settings import SettingsError


@click.group()
def chat() -> None:
    """The chat backend (YUQING_CHAT_BACKEND)."""


@chat.command()
@pass_context
def check(context: Context) -> None:
    """Send a test message to the duty chat through the configured backend and say what happened."""
    from playbooks.loader import PolicyFileError
    from responders.errors import DeliveryError
    from responders.messages import Templates
    from yuqing.chat import check_chat
    from yuqing.service import load_service_members

    settings, book = context.settings, context.playbook()
    name = settings.chat_backend
    if "chat_check" not in book.templates:
        raise click.ClickException("the playbook has no chat_check template (copy it from playbooks/jilin.yaml)")
    try:
        members = load_service_members(settings, book)
        sent_at = dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M")
        text = Templates.from_playbook(book).render("chat_check", backend=name, sent_at=sent_at)
        message_id = asyncio.run(check_chat(name, settings, members, text))
    except (PolicyFileError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None
    except DeliveryError as exc:
        kind = "refused, retrying will not help" if exc.permanent else "a temporary failure, try again later"
        raise click.ClickException(f"{name}: the test message was not delivered ({kind}): {exc}") from None
    except Exception as exc:  # the vendor library's own errors (Telegram's InvalidToken, …) in one line
        raise click.ClickException(f"{name}: the test message was not delivered: "
                                   f"{type(exc).__name__}: {exc}") from None
    duty = str(members.duty.chat_id)
    click.echo(f"{name}: test message delivered to the duty chat {members.vendor_chat(name, duty) or duty} "
               f"(message id {message_id})")


COMMANDS = [chat]
