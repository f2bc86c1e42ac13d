"""When one machine is not enough: ``yuqing worker``, ``yuqing scheduler`` and ``yuqing bot``.

The three run against one PostgreSQL store and one broker (``YUQING_BROKER_URL``: Redis, or RabbitMQ by an
``amqp://`` URL). SQLite is refused with a sentence saying what to do: its one writer at a time is what
``yuqing run`` is built around, and the cluster's locks are PostgreSQL's.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

import click

from playbooks.loader import PolicyFileError
from yuqing.cli_context import Context, pass_context
from yuqing.settings import Settings, SettingsError


def require_postgresql(settings: Settings, command: str) -> None:
    """Refuse a SQLite store, naming the setting and the way out."""
    url = settings.effective_database_url
    if not url.startswith(("postgresql", "postgres://")):
        raise click.ClickException(
            f"yuqing {command} needs a PostgreSQL store, and YUQING_DATABASE_URL is {url!r}: "
            "set YUQING_DATABASE_URL=postgresql://user@host/db (move an existing store with "
            "yuqing migrate-store --to postgresql://…), or keep to one machine with yuqing run")


def _prepared(context: Context, command: str) -> Settings:
    settings = context.settings
    require_postgresql(settings, command)
    logging.getLogger().setLevel(settings.log_level)
    from yuqing.store_setup import initialise_store

    try:
        initialise_store(settings, context.playbook())  # the schema current before anyone works on it
    except PolicyFileError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


@click.command()
@click.option("--queues", default="poll,pipeline,respond", show_default=True,
              help="the queues this worker takes work from (poll, pipeline, respond)")
@click.option("--concurrency", type=click.IntRange(1, 256), default=1, show_default=True,
              help="worker processes (each builds its own monitor)")
@click.option("--name", help="the worker's node name (default: yuqing-<pid>@<host>)")
@pass_context
def worker(context: Context, queues: str, concurrency: int, name: str | None) -> None:
    """A Celery worker: polls, stores pages and runs the responders' rounds the scheduler sends."""
    import os
    import socket

    from yuqing import tasks

    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(tasks.QUEUES))
    if not wanted or unknown:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown) or '(none)'}; "
                                 f"known: {', '.join(tasks.QUEUES)}", param_hint="--queues")
    settings = _prepared(context, "worker")
    app = tasks.configure(settings)
    node = name or f"yuqing-{os.getpid()}@{socket.gethostname()}"
    app.worker_main(["worker", "--queues", ",".join(wanted), "--concurrency", str(concurrency),
                     "--hostname", node, "--loglevel", settings.log_level, "--without-gossip",
                     "--without-mingle", "--prefetch-multiplier", "1"])


@click.command()
@click.option("--tick", type=click.FloatRange(0.1, 600), default=5.0, show_default=True,
              help="seconds between looks for due sources")
@click.option("--cycle-every", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
              help="seconds between responders cycles")
@click.option("--standby-every", type=click.FloatRange(0.1, 600), default=5.0, show_default=True,
              help="seconds between a standing-by scheduler's tries to take over")
@pass_context
def scheduler(context: Context, tick: float, cycle_every: float, standby_every: float) -> None:
    """Decide what is due and send it to the workers; one scheduler acts, a second stands by."""
    from yuqing import tasks
    from yuqing.assembly import monitor_for
    from yuqing.cadence import SchedulerCadence
    from yuqing.cluster_scheduler import ClusterScheduler, prepare_store

    settings = _prepared(context, "scheduler")
    tasks.configure(settings)
    tasks.declare_queues()
    playbook = context.playbook()
    monitor = monitor_for(settings, playbook, migrate_schema=False)
    cadence = SchedulerCadence(tick=tick, cycle_every=cycle_every, standby_every=standby_every)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signo, _frame: stop.set())
    try:
        ClusterScheduler(monitor.poller, monitor.engine, dt.timedelta(seconds=settings.poll_lease), cadence=cadence,
                         prepare=prepare_store(monitor.poller, playbook)).run(stop)
    finally:
        monitor.engine.dispose()


@click.command()
@click.option("--console", is_flag=True, help="print alerts here and read commands from stdin instead of Telegram")
@pass_context
def bot(context: Context, console: bool) -> None:
    """The chat bot alone: the chat backend, the outbox and the web desk (the workers do everything else)."""
    from yuqing.service import run_service

    settings = _prepared(context, "bot")
    try:
        run_service(settings, context.playbook(), backend="console" if console else None, chat_only=True)
    except (PolicyFileError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command("migrate-store")
@click.option("--to", "target", required=True, help="the empty PostgreSQL database, e.g. postgresql://user@host/db")
@pass_context
def migrate_store(context: Context, target: str) -> None:
    """Copy the configured store (YUQING_DATABASE_URL, e.g. the SQLite file) into an empty PostgreSQL database."""
    from monitor.urls import redact_url
    from store.copy_store import copy_store
    from store.database import make_engine, require_current
    from store.errors import StoreError

    if not target.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        raise click.BadParameter("must be a PostgreSQL URL, e.g. postgresql://user@host/db", param_hint="--to")
    source_url = context.settings.effective_database_url
    source, destination = make_engine(source_url), make_engine(target)
    try:
        require_current(source)
        copied = copy_store(source, destination)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        source.dispose()
        destination.dispose()
    click.echo(f"copied {sum(copied.values())} rows in {len(copied)} tables from {redact_url(source_url)}")
    click.echo("now set YUQING_DATABASE_URL to the new store; the old one is left as it was")


COMMANDS = [worker, scheduler, bot, migrate_store]
