"""CLI commands of the monitor stage: sources, poll, items, import."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import yaml
from sqlalchemy import select

from monitor.config import add_source, set_enabled
from monitor.errors import MonitorError
from monitor.health import health_findings
from monitor.urls import redact_url
from playbooks.loader import PolicyFileError
from store import session_scope, shown, utcnow
from store.errors import StoreError
from store.models import DeadLetter, Item, Source
from yuqing.cli_context import Context, pass_context

if TYPE_CHECKING:  # built by yuqing.assembly when a command polls; the pipeline's imports are heavy
    from monitor.wiring import Monitor

T = TypeVar("T")


def _monitor(context: Context) -> Monitor:
    """The monitor for the configured store; the settings fill the fetch values the file leaves out."""
    from yuqing.assembly import monitor_for

    try:
        return monitor_for(context.settings, context.playbook())
    except (PolicyFileError, MonitorError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None


def _run(context: Context, body: Callable[[Monitor], Awaitable[T]]) -> T:
    async def main() -> T:
        monitor = _monitor(context)
        try:
            return await body(monitor)
        finally:
            await monitor.aclose()
    try:
        return asyncio.run(main())
    except (MonitorError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {value!r}", param_hint=flag)
        out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return out


@click.group()
def sources() -> None:
    """Configure and inspect the places items come from."""


@sources.command("add")
@click.option("--kind", required=True, type=click.Choice(["feed", "weibo", "portal", "import"]))
@click.option("--url", required=True)
@click.option("--name", help="short unique name (default: derived from the URL)")
@click.option("--interval", default="15m", show_default=True, help="starting poll interval, e.g. 15m")
@click.option("--department", help="department key the source belongs to")
@click.option("--weight-class", type=click.Choice(["auto", "major", "other"]), default="auto", show_default=True)
@click.option("--option", "-o", "options", multiple=True, help="kind option key=value (YAML value), repeatable")
@pass_context
def sources_add(context: Context, kind: str, url: str, name: str | None, interval: str, department: str | None,
                weight_class: str, options: tuple[str, ...]) -> None:
    """Add a source to the sources file (validated before it is written)."""
    from monitor.items import host_of

    entry: dict[str, Any] = {
        "name": name or (host_of(url) or Path(url).stem).replace(" ", "-") or kind,
        "kind": kind, "url": url, "interval": interval, "weight_class": weight_class,
    }
    if department:
        entry["department"] = department
    opts = _pairs(options, "--option")
    if opts:
        entry["options"] = opts
    path = context.settings.effective_sources_file
    try:
        spec = add_source(path, entry)
    except PolicyFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {spec.kind} source {spec.name!r} → {path}")


@sources.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--interval", default="15m", show_default=True, help="starting poll interval where the file has none")
@click.option("--department", help="department the sources belong to, where the file names none")
@pass_context
def sources_import(context: Context, file: Path, interval: str, department: str | None) -> None:
    """Add many sources from a YAML list, a CSV (name,kind,url,interval,department,weight_class) or the
    OPML a feed reader exports; every rejected line is reported with its number, the rest are added."""
    from monitor.config import add_sources, load_sources
    from monitor.errors import ImportFileError
    from monitor.source_lists import name_for, read_source_list

    path = context.settings.effective_sources_file
    try:
        found = read_source_list(file)
        taken = {s.name for s in load_sources(path).sources}
        entries = []
        for line, entry in found.entries:
            entry.setdefault("interval", interval)
            if department:
                entry.setdefault("department", department)
            if "name" not in entry and isinstance(entry.get("url"), str):
                entry["name"] = name_for(entry["url"], taken)
            entries.append((line, entry))
        added, rejected = add_sources(path, entries, file.name)
    except (ImportFileError, PolicyFileError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for line, reason in sorted(found.rejected + rejected):
        click.echo(f"{file.name}:{line}: rejected: {reason}", err=True)
    click.echo(f"added {len(added)} sources from {file} → {path}; rejected {len(found.rejected) + len(rejected)}")


@sources.command("list")
@pass_context
def sources_list(context: Context) -> None:
    """List configured sources with their polling state (the sources file mirrored into the store first).

    Reads the store directly rather than building the monitor: listing needs no pipeline, fetcher or
    migration check, and starts in well under a second."""
    from monitor.source_table import sync_sources
    from yuqing.cli_session import store_session
    from yuqing.store_setup import sources_config

    try:
        config = sources_config(context.settings)
    except PolicyFileError as exc:
        raise click.ClickException(str(exc)) from None
    with store_session(context) as session:
        sync_sources(session, config)
        rows = session.scalars(select(Source).order_by(Source.name)).all()
        click.echo(f"{'name':24} {'kind':7} {'on':3} {'items':>6} {'interval':>9} {'next poll':16}  url")
        for r in rows:
            click.echo(f"{r.name:24} {r.kind:7} {'yes' if r.enabled else 'no':3} {r.items_total:>6} "
                       f"{r.interval_seconds // 60:>7}m  {shown(r.next_poll_at):16}  {redact_url(r.url)}")


@sources.command("disable")
@click.argument("name")
@pass_context
def sources_disable(context: Context, name: str) -> None:
    """Stop polling NAME (its items and history stay)."""
    _switch(context, name, enabled=False)


@sources.command("enable")
@click.argument("name")
@pass_context
def sources_enable(context: Context, name: str) -> None:
    """Resume polling NAME."""
    _switch(context, name, enabled=True)


def _switch(context: Context, name: str, *, enabled: bool) -> None:
    try:
        set_enabled(context.settings.effective_sources_file, name, enabled)
    except PolicyFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'enabled' if enabled else 'disabled'} {name}")


@sources.command("test")
@click.argument("name")
@pass_context
def sources_test(context: Context, name: str) -> None:
    """Fetch NAME once and show what would be stored; stores nothing."""
    async def body(monitor: Monitor) -> None:
        outcome = await monitor.poller.fetch(monitor.poller.spec(name))
        click.echo(f"{name}: {'not modified' if outcome.not_modified else f'{len(outcome.items)} items'}")
        for warning in outcome.warnings:
            click.echo(f"  warning: {warning}")
        for item in outcome.items[:20]:
            reply = f" [{item.reply_status}]" if item.reply_status else ""
            click.echo(f"- {shown(item.published_at)} {item.external_id}: {item.title or item.text[:40]}{reply}")
            click.echo(f"    {item.text[:120]!s}")
    _run(context, body)


@sources.command("health")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per source")
@pass_context
def sources_health(context: Context, as_json: bool) -> None:
    """Flag sources that fail repeatedly or have gone quiet."""
    async def body(monitor: Monitor) -> None:
        monitor.poller.sync()
        with session_scope(monitor.sessions) as session:
            findings = health_findings(session, monitor.config, utcnow())
            letters = list(session.scalars(select(DeadLetter).order_by(DeadLetter.failed_at.desc()).limit(50)))
        for f in findings:
            if as_json:
                click.echo(json.dumps({"source": f.source, "url": f.url, "problem": f.problem, "message": f.message,
                                       "consecutive_failures": f.consecutive_failures,
                                       "items_per_day": f.items_per_day,
                                       "last_success_at": f.last_success_at.isoformat() if f.last_success_at else None},
                                      ensure_ascii=False))
            else:
                mark = "OK " if f.problem == "ok" else "!! "
                click.echo(f"{mark}{f.message} (last success {shown(f.last_success_at)}, {f.items_per_day}/day)")
        for letter in letters:  # the cluster's tasks that kept failing (yuqing worker)
            if as_json:
                click.echo(json.dumps({"dead_letter": letter.task, "task_id": letter.task_id, "queue": letter.queue,
                                       "what": letter.summary, "error": letter.error, "attempts": letter.attempts,
                                       "failed_at": letter.failed_at.isoformat()}, ensure_ascii=False))
            else:
                click.echo(f"!! task failed {letter.attempts} time(s) and was given up: {letter.summary} "
                           f"({letter.queue or '?'} queue, {shown(letter.failed_at)}): {letter.error}")
    _run(context, body)


@click.command()
@click.option("--once", is_flag=True, required=True, help="run one cycle and exit (the service polls continuously)")
@click.argument("names", nargs=-1)
@pass_context
def poll(context: Context, once: bool, names: tuple[str, ...]) -> None:
    """Poll every enabled source (or NAMES) once and print one row per source."""
    from store.database import one_writer_at_a_time

    def waiting() -> None:
        click.echo("another yuqing poll is writing to this store; waiting for it to finish…", err=True)

    with one_writer_at_a_time(context.settings.effective_database_url, on_wait=waiting):
        results = _run(context, lambda monitor: monitor.poller.poll_cycle(names or None))
    click.echo(f"{'source':24} {'status':13} {'new':>5} {'updated':>7} {'unchanged':>9} {'errors':>6}")
    for r in results:
        click.echo(f"{r.source:24} {r.status:13} {r.new:>5} {r.updated:>7} {r.unchanged:>9} {r.errors:>6}")
        if r.error:
            click.echo(f"  error: {r.error}")
        for warning in r.warnings[:5]:
            click.echo(f"  warning: {warning}")
    if results and all(r.status == "error" for r in results):
        raise SystemExit(1)


@click.group()
def items() -> None:
    """Look at stored items."""


def _since(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    from playbooks.schema import parse_duration

    try:
        return utcnow() - parse_duration(value)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"use a duration (6h, 2d) or an ISO time, not {value!r}",
                                 param_hint="--since") from None
    from store import SHANGHAI

    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


@items.command("list")
@click.option("--since", help="a duration back from now (6h, 2d) or an ISO time")
@click.option("--source", help="only this source")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@pass_context
def items_list(context: Context, since: str | None, source: str | None, limit: int, as_json: bool) -> None:
    """Newest stored items first."""
    start = _since(since)

    async def body(monitor: Monitor) -> None:
        with session_scope(monitor.sessions) as session:
            query = select(Item, Source.name).join(Source).order_by(Item.fetched_at.desc(), Item.id.desc()).limit(limit)
            if start is not None:
                query = query.where(Item.fetched_at >= start)
            if source:
                query = query.where(Source.name == source)
            for item, name in session.execute(query):
                if as_json:
                    click.echo(json.dumps(_item_json(item, name), ensure_ascii=False))
                else:
                    tag = f" ↻{item.reprint_of_id}" if item.reprint_of_id else ""
                    click.echo(
                        f"{shown(item.published_at)} [{name}] {item.category or '-'}{tag} "
                        f"{(item.title or item.text)[:60]}"
                    )

    _run(context, body)


def _item_json(item: Item, source: str) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": item.id,
        "source": source,
        "external_id": item.external_id,
        "url": item.url,
        "title": item.title,
        "text": item.text,
        "author": item.author,
        "published_at": iso(item.published_at),
        "fetched_at": iso(item.fetched_at),
        "reposts": item.reposts,
        "comments": item.comments,
        "likes": item.likes,
        "dislikes": item.dislikes,
        "reply_status": item.reply_status,
        "reply_text": item.reply_text,
        "reply_at": iso(item.reply_at),
        "repost_of_id": item.repost_of_id,
        "reprint_of_id": item.reprint_of_id,
        "category": item.category,
        "rumour_probability": item.rumour_probability,
        "event_id": item.event_id,
    }


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--source", help="import source name (default: import:<file stem>)")
@click.option("--map", "mapping", multiple=True, help="column=field, repeatable (fields: id title text time ...)")
@pass_context
def import_command(context: Context, file: Path, source: str | None, mapping: tuple[str, ...]) -> None:
    """Import a CSV, XLSX or JSONL export through the pipeline (re-importing adds nothing)."""
    from monitor.import_to_store import import_file

    pairs = {k: str(v) for k, v in _pairs(mapping, "--map").items()}

    async def body(monitor: Monitor) -> list[str]:
        summary = await asyncio.to_thread(
            import_file, monitor.sessions, monitor.pipeline, file, utcnow(), source=source, mapping=pairs
        )
        return summary.lines()

    for line in _run(context, body):
        click.echo(line)


COMMANDS = [sources, poll, items, import_command]
