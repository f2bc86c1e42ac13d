"""Shared pieces of the benchmarks: dataset texts, trained models, RSS bytes, verdict lines.

Dataset texts are read at run time from ``load_settings().datasets_dir`` and
never copied into the repository. Generated artefacts (trained models, the
1,000,000-item store) are cached under ``<data_dir>/bench`` (``var/bench``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from monitor.items import content_hash, parse_time
from yuqing.settings import load_settings

DATASETS = ("gov-messages-hot", "gov-messages", "gov-messages-replies", "weibo-rumours", "weibo-covid-rumours")


@dataclass(frozen=True)
class Record:
    """One dataset message reduced to what a feed item carries."""

    title: str
    text: str
    published: dt.datetime


def bench_dir() -> Path:
    """``var/bench`` (under the settings' data_dir), created on demand."""
    path = load_settings().data_dir / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def iter_records(names: tuple[str, ...] = DATASETS, labels: tuple[str, ...] = ()) -> Iterator[Record]:
    """Dataset messages, distinct by content hash, in file order (one dataset after the other).

    *labels*, when given, keeps only rows whose ``label`` is one of them (e.g. rumours).
    """
    root = load_settings().datasets_dir
    seen: set[str] = set()
    fallback = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for name in names:
        with (root / name / "train.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if labels and str(row.get("label")) not in labels:
                    continue
                text = str(row.get("text") or "").strip()
                title = str(row.get("title") or text[:30]).strip()
                key = content_hash(title, text)
                if not text or key in seen:
                    continue
                seen.add(key)
                when = parse_time(row["time"]) if row.get("time") else None
                yield Record(title, text, when or fallback)


def load_records(limit: int) -> list[Record]:
    """The first *limit* distinct records (fewer if the datasets run out)."""
    out: list[Record] = []
    for record in iter_records():
        if len(out) >= limit:
            break
        out.append(record)
    return out


def rss_item(guid: str, record: Record) -> str:
    return (f"<item><title>{escape(record.title)}</title><link>{escape(guid)}</link>"
            f"<guid>{escape(guid)}</guid><pubDate>{format_datetime(record.published)}</pubDate>"
            f"<description>{escape(record.text)}</description></item>")


def rss(title: str, items: list[str]) -> bytes:
    """An RSS 2.0 document from already rendered ``<item>`` strings."""
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://bench.example.cn/</link><description>bench</description>"
            f"{''.join(items)}</channel></rss>").encode()


def _has_model(directory: Path, tokenizer: str | None = None) -> bool:
    """Both models present and able to classify with the current code (features change), under the
    playbook's tokenizer or *tokenizer* (a model loads only under the tokenizer it was trained with)."""
    if not all((directory / kind / "manifest.json").exists() for kind in ("topic", "rumour")):
        return False
    wanted = bench_playbook(tokenizer).tokenizer
    trained = {json.loads((directory / kind / "manifest.json").read_text()).get("tokenizer", "jieba")
               for kind in ("topic", "rumour")}
    if trained != {wanted}:  # another tokenizer's models: not a failure, just not these
        return False
    from classifiers.api import Classifier
    from monitor.annotate import ClassifierAnnotator
    from monitor.items import NormalisedItem

    try:
        annotator = ClassifierAnnotator(Classifier.load(bench_playbook(tokenizer), models_dir=directory))
        annotator.annotate(NormalisedItem(source="check", external_id="1", title="试", text="试一试"))
    except Exception as exc:  # noqa: BLE001 - any failure means: train afresh
        print(f"models in {directory} cannot be used ({type(exc).__name__}: {exc})", flush=True)
        return False
    return True


def bench_playbook(tokenizer: str | None = None) -> Any:
    """The bundled playbook, with its tokenizer replaced when *tokenizer* names another."""
    from playbooks.loader import load_playbook

    playbook = load_playbook()
    return playbook if tokenizer in (None, playbook.tokenizer) else playbook.model_copy(update={"tokenizer": tokenizer})


def models_dir(tokenizer: str | None = None) -> Path:
    """Trained topic and rumour models: the configured ones, else ones trained once into var/bench/models.

    Training (a few minutes, ``yuqing train``) happens only when neither exists,
    so the classify step of the pipeline is always real, never skipped. With *tokenizer* other than
    the playbook's, models trained with it (``var/bench/models-jieba``, say).
    """
    configured = load_settings().models_dir
    if _has_model(configured, tokenizer):
        return configured
    cached = bench_dir() / ("models" if tokenizer in (None, bench_playbook().tokenizer) else f"models-{tokenizer}")
    if _has_model(cached, tokenizer):
        return cached
    print(f"no trained models in {configured}: training them once into {cached} (a few minutes)", flush=True)
    exe = [sys.executable, "-c", "from yuqing.cli import main; main()"]
    choice = ["--tokenizer", tokenizer] if tokenizer else []
    for kind in ("topic", "rumour"):
        shutil.rmtree(cached / kind, ignore_errors=True)
        subprocess.run([*exe, "train", kind, "--out", str(cached / kind), "--folds", "2", *choice], check=True,
                       stdout=subprocess.DEVNULL)
    return cached


def machine() -> str:
    """``x86_64, AMD EPYC, 2 cores`` — the line the README's figures are quoted with."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}, {model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return values[0] if q <= 0 else cuts[min(int(q), 99) - 1]


def verdict(name: str, value: float, target: float, *, at_most: bool) -> bool:
    """Print the target line with pass/miss; returns whether the target was met."""
    met = value <= target if at_most else value >= target
    sign = "≤" if at_most else "≥"
    print(f"TARGET {name} {sign} {target:g}: {value:.3f} → {'PASS' if met else 'MISS'}")
    return met


def header(title: str) -> None:
    print(f"== {title} ({dt.date.today().isoformat()}; {machine()})", flush=True)
