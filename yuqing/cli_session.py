"""What the store commands share: a unit of work on the configured store, a group with a default
command, the playbook's time zone. Its own module so that ``cases`` and ``points`` do not import the
closing-the-loop commands (and their fetch, digest and spread modules) to get them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session

from playbooks.loader import PolicyFileError
from playbooks.schema import Playbook
from responders.errors import ResponderError
from store import make_engine, require_current, session_factory, session_scope
from store.database import StoreError
from yuqing.cli_context import Context


class DefaultGroup(click.Group):
    """A group whose first argument runs ``default_command`` unless it names a subcommand."""

    def __init__(self, *args: Any, default_command: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_command = default_command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@contextmanager
def store_session(context: Context) -> Iterator[Session]:
    """A unit of work on the configured store; store and responder errors become click errors."""
    engine = make_engine(context.settings.effective_database_url)
    try:
        require_current(engine)
        with session_scope(session_factory(engine)) as session:
            yield session
    except ResponderError as exc:  # its wording is the playbook's
        from responders.messages import Templates

        raise click.ClickException(Templates.of(context.playbook()).said_plain(exc)) from None
    except (StoreError, PolicyFileError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


def zone_of(book: Playbook) -> ZoneInfo:
    return ZoneInfo(book.timezone)
