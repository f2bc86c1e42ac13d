"""`yuqing calibrate alerts`: replay the labelled datasets with their own times and engagement and
choose the heat alert threshold that keeps the duty chat within the playbook's alert budget.

Reading the datasets is I/O and lives here; the replay and the choice are
:mod:`classifiers.calibration`. The figures go into ``classifiers/README.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from classifiers.calibration import Reaction, Replay, ReplayEvent, choose_threshold, replay
from classifiers.events import EventClusterer
from classifiers.heat import HeatInputs, Mention, heat_score
from classifiers.signals import emergency_signal
from classifiers.tokenizer import Tokenizer
from monitor.items import parse_time
from playbooks.schema import Playbook
from yuqing.cli_context import Context, pass_context
from yuqing.settings import load_settings

MICROBLOG_HOST = "weibo.com"
RUMOUR_LABELS = frozenset({"rumour", "fake"})


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _time(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    try:
        when = parse_time(value) if isinstance(value, str) else None
    except ValueError:  # e.g. a repost stamped '07月23日 11:47' with no year: not replayable
        return None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when


def _category(text: str, playbook: Playbook) -> str:
    """The first playbook category whose keywords the text names (the replay runs without the model)."""
    for name, category in playbook.categories.items():
        if name != playbook.fallback_category and any(k in text for k in category.keywords):
            return name
    return playbook.fallback_category


def _int(value: Any) -> int:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return 0


def messages_replay(path: Path, playbook: Playbook, tz: dt.tzinfo) -> Replay:
    """Citizen messages clustered into events by the service's own clusterer, each with its likes."""
    clusterer = EventClusterer(Tokenizer.from_playbook(playbook).tokenize)
    grouped: dict[str, list[tuple[dt.datetime, str, int]]] = {}
    rows = [(w, r) for r in _lines(path) if (w := _time(r.get("time"), tz)) is not None]
    for when, r in sorted(rows, key=lambda pair: pair[0]):
        text = f"{r.get('title') or ''}\n{r.get('text') or ''}"
        assigned = clusterer.add(text, when)
        grouped.setdefault(assigned.event_id, []).append((when, text, _int(r.get("likes")) + _int(r.get("dislikes"))))
    events = []
    for key, members in grouped.items():
        texts = "\n".join(t for _, t, _ in members)
        mentions = tuple(Mention(when, None, engagement) for when, _, engagement in members)
        events.append(ReplayEvent(key, _category(texts, playbook), mentions,
                                  always_alerts=emergency_signal(texts, playbook) is not None))
    return replay(path.parent.name, events, playbook)


def _reposts(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value.replace("'", '"')) if value.strip() else []
        except json.JSONDecodeError:
            return []
    return value if isinstance(value, list) else []


def microblog_replay(path: Path, playbook: Playbook, tz: dt.tzinfo) -> Replay:
    """Microblog posts, each an event whose reposts arrive at their own times; labelled rumours with
    reach stand for 疑似谣言 (the model's verdict) and always alert."""
    min_reach = playbook.heat.rumour_consultation_min_reach
    events = []
    for i, r in enumerate(_lines(path)):
        when = _time(r.get("time"), tz)
        if when is None:
            continue
        reactions = tuple(Reaction(t) for rep in _reposts(r.get("reposts"))
                          if isinstance(rep, dict) and (t := _time(rep.get("time"), tz)) is not None and t >= when)
        reach = _int(r.get("reposts_count")) + _int(r.get("comments_count"))
        text = str(r.get("text") or "")
        rumour = str(r.get("label")).lower() in RUMOUR_LABELS and reach >= min_reach
        events.append(ReplayEvent(f"{path.parent.name}:{i}", _category(text, playbook),
                                  (Mention(when, MICROBLOG_HOST, _int(r.get("likes_count"))),), reactions,
                                  always_alerts=rumour or emergency_signal(text, playbook) is not None))
    return replay(path.parent.name, events, playbook)


@click.group()
def calibrate() -> None:
    """Choose thresholds from the labelled data (never from ../shared/eval)."""


def _single_item_line(book: Playbook, threshold: float) -> str:
    """What one fresh item from a major site scores on the most sensitive category, and whether it alerts."""
    category = max(book.categories, key=lambda name: book.categories[name].sensitivity)
    host = book.source_weights.major_hosts[0]
    now = dt.datetime.now(dt.UTC)
    score = heat_score(HeatInputs([Mention(now, host)], category), now, book).score
    verdict = "alerts" if score >= threshold else "does NOT alert"
    return f"one {host} item on {category} (×{book.categories[category].sensitivity:g}) scores {score:.1f}: {verdict}"


@calibrate.command("alerts")
@click.option("--datasets", "datasets_dir", type=click.Path(path_type=Path, file_okay=False),
              help="the datasets folder (default: YUQING_DATASETS_DIR)")
@click.option("--budget", type=int, help="heat alerts on the busiest day (default: heat.alert_budget_per_day)")
@click.option("--major-budget", type=int, help="major events on the busiest day (default: heat.major_budget_per_day)")
@pass_context
def calibrate_alerts(context: Context, datasets_dir: Path | None, budget: int | None,
                     major_budget: int | None) -> None:
    """Replay gov-messages-hot and the Weibo datasets; print alerts on the busiest day and the thresholds."""
    book = context.playbook()
    tz = ZoneInfo(book.timezone)
    root = datasets_dir or load_settings().datasets_dir
    budget = budget if budget is not None else book.heat.alert_budget_per_day
    major_budget = major_budget if major_budget is not None else book.heat.major_budget_per_day
    replays = [messages_replay(root / "gov-messages-hot" / "train.jsonl", book, tz),
               microblog_replay(root / "weibo-rumours" / "train.jsonl", book, tz),
               microblog_replay(root / "weibo-covid-rumours" / "train.jsonl", book, tz)]
    alert = choose_threshold(replays, budget, tz)
    major = choose_threshold(replays, major_budget, tz, floor=alert)
    click.echo(f"budgets: {budget} heat alerts, {major_budget} major events on the busiest day; "
               f"playbook now: alert_threshold {book.heat.alert_threshold:g}, major_threshold "
               f"{book.heat.major_threshold:g}")
    click.echo(f"{'dataset':<22}{'events':>7}{'always':>7}{'max heat':>9}"
               f"{'alerts':>8}{'+always':>8}{'  busiest day':<14}{'major':>6}")
    for r in replays:
        day, count = r.busiest(alert, tz)
        total_day, total = r.busiest(alert, tz, with_always=True)
        click.echo(f"{r.name:<22}{len(r.events):>7}{len(r.always):>7}{r.max_heat():>9.1f}"
                   f"{count:>8}{total:>8}  {str(total_day or '—'):<12}{r.busiest(major, tz)[1]:>6}")
    click.echo("alerts: heat alerts on the busiest day at the chosen threshold; +always: with the emergencies "
               "and 疑似谣言 with reach, which alert whatever the threshold")
    click.echo(_single_item_line(book, alert))
    click.echo(f"chosen alert_threshold: {alert:g}")
    click.echo(f"chosen major_threshold: {major:g}")


COMMANDS = [calibrate]
