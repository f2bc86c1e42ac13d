"""The ``yuqing`` command line: one root group; each stage adds its own commands."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
import sys
from pathlib import Path

import click

from playbooks.loader import PolicyFileError, load_playbook
from playbooks.workdays import MAX_SPAN, MAX_WORKING_DAYS, ClockError, WorkClock
from yuqing.cli_context import Context, pass_context
from yuqing.settings import SettingsError

# Each stage's commands live in their own module, imported only when one of them runs, so a command
# that does not classify (deadline, sources, cases, points …) does not pay for scikit-learn and scipy.
LAZY_COMMANDS: dict[str, str] = {
    "sources": "yuqing.cli_monitor", "poll": "yuqing.cli_monitor", "items": "yuqing.cli_monitor",
    "import": "yuqing.cli_monitor",
    "train": "yuqing.cli_classifiers", "classify": "yuqing.cli_classifiers", "eval": "yuqing.cli_classifiers",
    "clarify": "yuqing.cli_loop", "case": "yuqing.cli_loop", "digest": "yuqing.cli_loop",
    "report": "yuqing.cli_loop", "compliance": "yuqing.cli_loop",
    "events": "yuqing.cli_cases", "cases": "yuqing.cli_cases", "cycle": "yuqing.cli_cases",
    "calibrate": "yuqing.cli_calibrate",
    "submit": "yuqing.cli_points", "adopt": "yuqing.cli_points", "decline": "yuqing.cli_points",
    "points": "yuqing.cli_points",
    "chat": "yuqing.cli_chat",
    "web": "yuqing.cli_web", "users": "yuqing.cli_web",
    "worker": "yuqing.cli_cluster", "scheduler": "yuqing.cli_cluster", "bot": "yuqing.cli_cluster",
    "migrate-store": "yuqing.cli_cluster",
}


class LazyGroup(click.Group):
    """A group that imports a command's module when that command is asked for (click's lazy-loading recipe)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(LAZY_COMMANDS[cmd_name])
            commands: list[click.Command] = module.COMMANDS
            for command in commands:
                if command.name == cmd_name:
                    return command
        return super().get_command(ctx, cmd_name)


class _Main(LazyGroup):
    """The root group: a store that is busy or unreachable is one clear line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own ways out (a usage error, the end of a command)
        except Exception as exc:
            # imported only when a command failed: a command that never opens the store (deadline,
            # playbook check) does not pay for SQLAlchemy's engine and alembic at start
            from sqlalchemy.exc import OperationalError

            from store.database import describe_store_fault

            if not isinstance(exc, OperationalError):
                raise
            context = ctx.find_object(Context)
            url = context.settings.effective_database_url if context is not None else ""
            message = describe_store_fault(exc, url)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group(cls=_Main)
@click.version_option(package_name="yuqing")
@click.pass_context
def main(ctx: click.Context) -> None:
    """yuqing: public-opinion monitoring and response coordination for a news office."""
    ctx.ensure_object(Context)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@pass_context
def init(context: Context) -> None:
    """Create or upgrade the store and load the playbook's departments (safe to repeat)."""
    from yuqing.store_setup import initialise_store

    settings = context.settings
    revision, added, updated = initialise_store(settings, context.playbook())
    click.echo(f"store ready at schema {revision}: {settings.effective_database_url}")
    click.echo(f"departments: {added} added, {updated} updated")


@main.group()
def playbook() -> None:
    """Check and summarise policy playbooks."""


@playbook.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@pass_context
def playbook_check(context: Context, file: Path) -> None:
    """Validate FILE; every mistake is one line naming file, line and field. Then check that the trained
    models (YUQING_MODELS_DIR) were cut with the tokenizer FILE chooses: otherwise nothing would be stored."""
    from classifiers.modelio import models_fit

    try:
        book = load_playbook(file)
    except PolicyFileError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    click.echo(f"{file}: ok ({len(book.departments)} departments, {len(book.categories)} categories)")
    unfit = models_fit(context.settings.models_dir, book.tokenizer)
    for line in unfit:
        click.echo(f"{file}: tokenizer: {line}", err=True)
    if unfit:
        sys.exit(1)


@playbook.command("show")
@click.option("--file", "file", type=click.Path(path_type=Path), help="playbook (default: settings)")
@pass_context
def playbook_show(context: Context, file: Path | None) -> None:
    """Summarise what the playbook holds."""
    from yuqing.summary import playbook_summary

    click.echo(playbook_summary(context.playbook(file)))


@main.command()
@click.option("--start", required=True, help="ISO 8601 start, with offset, e.g. 2026-09-30T10:00+08:00")
@click.option("--working-days", type=click.IntRange(0, MAX_WORKING_DAYS),
              help=f"count this many Chinese working days (at most {MAX_WORKING_DAYS})")
@click.option("--hours", type=click.FloatRange(0, MAX_SPAN.days * 24),
              help=f"or this many elapsed hours (at most {MAX_SPAN.days * 24})")
@pass_context
def deadline(context: Context, start: str, working_days: int | None, hours: float | None) -> None:
    """Print the due time (ISO 8601) under the playbook's calendar and office hours."""
    if (working_days is None) == (hours is None):
        raise click.UsageError("give exactly one of --working-days and --hours")
    if hours is not None and math.isnan(hours):
        raise click.BadParameter("not a number", param_hint="--hours")
    try:
        begin = dt.datetime.fromisoformat(start)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {start!r}", param_hint="--start") from None
    clock = WorkClock.from_playbook(context.playbook())
    try:
        due = (
            clock.due_in_working_days(begin, working_days)
            if working_days is not None
            else clock.due_in(begin, dt.timedelta(hours=hours or 0))
        )
    except ClockError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(due.isoformat())


@main.command()
@click.option("--stay", is_flag=True, help="keep the service and its web desk up after the demo, until Ctrl-C")
@pass_context
def demo(context: Context, stay: bool) -> None:
    """Run the demo on the embedded defaults (SQLite, bundled playbook); it prints the web desk's address."""
    from yuqing.demo import run_demo

    run_demo(context.settings, stay)


@main.command()
@click.option("--console", is_flag=True, help="print alerts here and read commands from stdin instead of Telegram")
@pass_context
def run(context: Context, console: bool) -> None:
    """Run the service: pollers, pipeline, routing, bot, outbox and escalation on one loop (SIGTERM stops)."""
    from monitor.errors import MonitorError
    from yuqing.service import run_service

    try:
        run_service(context.settings, context.playbook(), backend="console" if console else None)
    except (PolicyFileError, SettingsError, MonitorError) as exc:  # e.g. models of another tokenizer
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    main()
