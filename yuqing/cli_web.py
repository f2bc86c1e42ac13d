"""``yuqing web`` (the desk alone, beside workers) and ``yuqing users`` (desk passwords)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import click

from responders.messages import Templates
from store import utcnow
from store.database import make_engine, require_current, session_factory
from store.errors import StoreError
from yuqing.cli_context import Context, pass_context
from yuqing.cli_session import store_session
from yuqing.errors import DeskError


@click.command()
@pass_context
def web(context: Context) -> None:
    """Serve the web desk alone on YUQING_WEB_ADDRESS (read-mostly: the service or workers do the rest)."""
    from yuqing.service import load_service_members
    from yuqing.web import web_server
    from yuqing.webdesk.site import build_site

    settings, playbook = context.settings, context.playbook()
    members = load_service_members(settings, playbook)
    engine = make_engine(settings.effective_database_url)
    try:
        require_current(engine)
    except StoreError as exc:  # a store not yet made or migrated: say so, no traceback
        engine.dispose()
        raise click.ClickException(str(exc)) from None
    site = build_site(settings, playbook, members, session_factory(engine), Templates.from_playbook(playbook))
    server = web_server(settings, {}, site)

    async def main() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await server.start()
        click.echo(f"web desk at {server.address} (stop with Ctrl-C)")
        await stop.wait()
        await server.stop()

    try:
        asyncio.run(main())
    finally:
        engine.dispose()


@click.group()
def users() -> None:
    """Web-desk sign-ins: the names are the members file's desk.logins; passwords live in the store, hashed."""


@users.command("set-password")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the password from standard input (scripts)")
@pass_context
def set_password_command(context: Context, name: str, from_stdin: bool) -> None:
    """Set NAME's desk password (asked twice, never echoed; at least 10 characters)."""
    from yuqing.service import load_service_members
    from yuqing.webdesk.access import set_password

    settings, playbook = context.settings, context.playbook()
    members = load_service_members(settings, playbook)
    password = sys.stdin.readline().rstrip("\n") if from_stdin else click.prompt(
        f"{name} 的新密码", hide_input=True, confirmation_prompt=True)
    try:
        with store_session(context) as session:
            set_password(session, members, name, password, utcnow())
    except DeskError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password set for {name}")


@users.command("list")
@pass_context
def list_users(context: Context) -> None:
    """Every sign-in name, the person, the roles, and whether a password is set."""
    from sqlalchemy import select

    from store.models import DeskPassword
    from yuqing.service import load_service_members
    from yuqing.webdesk.access import person_for

    settings, playbook = context.settings, context.playbook()
    members = load_service_members(settings, playbook)
    with store_session(context) as session:
        with_password = set(session.scalars(select(DeskPassword.login)))
    for login in sorted(members.desk.logins):
        person = person_for(members, login)
        roles = "、".join(sorted(r.value for r in person.roles)) if person else "（不在任何角色中）"
        units = f" [{'、'.join(person.departments)}]" if person and person.departments else ""
        click.echo(f"{login}\t{person.name if person else '?'}\t{roles}{units}\t"
                   f"{'password set' if login in with_password else 'no password'}")


COMMANDS = [web, users]
