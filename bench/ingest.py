"""Benchmark: items per second through parse → normalise → dedupe → classify → cluster → store, and per stage.

Builds on :mod:`bench.bench_ingest` (its dataset feeds and loopback server):
N dataset messages served as M RSS feeds on 127.0.0.1, one poll cycle into a
fresh SQLite file with the trained classifiers loaded. In the same run
feedparser alone parses the same bytes (best of 3); the RATIO of the two rates
is the figure to compare across machines. Target: ratio ≥ 0.5.

The full cycle's time is split by the pipeline's stages (dedupe, tokenise,
classify, cluster, store; ``Pipeline.stage_seconds``) with our feed parser
timed on the same bytes, each as items/s and as a ratio to feedparser, so the
next bottleneck is visible. A second cycle with the classify step stubbed out
(into another fresh file) shows how much of the time the classifiers take. A
third cycle runs with the other tokenizer (jieba when the playbook chooses
rjieba, and the reverse; its models trained with it, once, into var/bench), and
the tokenise stage and the full pipeline of the two are printed side by side
with their ratio. Not a test.

Run ``python -m bench.ingest [--items N] [--feeds M]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedparser

from bench.bench_ingest import feeds, serve
from bench.common import bench_playbook, header, models_dir, verdict
from monitor.config import SourcesFile, parse_sources
from monitor.items import NormalisedItem
from monitor.pipeline import Annotation, Annotator, Reaction
from monitor.sources.feed import parse_feed
from monitor.wiring import build_monitor
from playbooks.schema import Playbook
from store.models import Item

TARGET = 0.5


class NoAnnotation(Annotator):
    """Stands in for the classifiers to measure the rest of the pipeline alone."""

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        return Annotation(None)


def run_cycle(config: SourcesFile, models: Path, annotator: Annotator | None,
              warm: NormalisedItem, playbook: Playbook) -> tuple[int, float, dict[str, float]]:
    """One poll cycle of every feed into a fresh SQLite file: (items stored, seconds, seconds per stage)."""
    with tempfile.TemporaryDirectory() as tmp:
        monitor = build_monitor(f"sqlite:///{tmp}/ingest.sqlite3", config, playbook, models_dir=models,
                                annotator=annotator)
        if monitor.pipeline.annotator is not None:
            monitor.pipeline.annotator.annotate(warm)  # jieba's dictionary loads outside the timing
        tokenizer = getattr(monitor.pipeline.events, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.tokenize("预热")
        monitor.poller.sync()
        started = time.perf_counter()
        results = asyncio.run(monitor.poller.poll_cycle())
        elapsed = time.perf_counter() - started
        stages = dict(monitor.pipeline.stage_seconds)
        asyncio.run(monitor.aclose())
    errors = [r.error for r in results if r.error]
    if errors:
        raise SystemExit(f"ingest failed: {errors[:3]}")
    return sum(r.new for r in results), elapsed, stages


def parse_ours(bodies: list[bytes], repeat: int = 3) -> float:
    """Our feed parser (feedparser + normalising each entry) on the same bytes: best seconds of *repeat*."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for k, body in enumerate(bodies):
            parse_feed(f"f{k}", "http://127.0.0.1/", body, "application/rss+xml")
        best = min(best, time.perf_counter() - started)
    return best


def print_stages(stored: int, elapsed: float, parse_s: float, stages: dict[str, float], base: float) -> None:
    """Per stage: seconds, share of the cycle, items/s and that rate against feedparser's (the bottleneck
    is the stage with the smallest ratio). "other" is the rest of the cycle: fetching, polling
    bookkeeping, commits."""
    rows = [("parse", parse_s), *stages.items(), ("other", elapsed - sum(stages.values()))]
    print(f"  {'stage':9} {'seconds':>8} {'share':>6} {'items/s':>10} {'RATIO/feedparser':>17}")
    for name, seconds in rows:
        share = "" if name == "parse" else f"{100 * seconds / elapsed:5.0f}%"
        rate = stored / seconds if seconds > 0 else float("inf")
        print(f"  {name:9} {seconds:8.3f} {share:>6} {rate:10,.0f} {rate / base:17.3f}")


def parse_only(bodies: list[bytes], repeat: int = 3) -> tuple[int, float]:
    """feedparser alone on the same bytes: (entries, best seconds of *repeat*)."""
    best, entries = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        entries = sum(len(feedparser.parse(body).entries) for body in bodies)
        best = min(best, time.perf_counter() - started)
    return entries, best


def print_tokenizers(runs: dict[str, tuple[int, float, dict[str, float]]]) -> None:
    """The same items through the full pipeline with each tokenizer: the tokenise stage and the whole
    cycle, and how much faster rjieba is (jieba's seconds over rjieba's)."""
    print("tokenizers (same items, full pipeline, each with models trained on its own tokens):")
    print(f"  {'tokenizer':9} {'tokenise s':>10} {'tokenise items/s':>17} {'full s':>8} {'full items/s':>13}")
    for name, (stored, elapsed, stages) in runs.items():
        tokenise = stages["tokenise"]
        print(f"  {name:9} {tokenise:10.3f} {stored / tokenise:17,.0f} {elapsed:8.2f} {stored / elapsed:13,.1f}")
    (_, jieba_s, jieba_stages), (_, rjieba_s, rjieba_stages) = runs["jieba"], runs["rjieba"]
    print(f"RATIO tokenise stage jieba/rjieba: {jieba_stages['tokenise'] / rjieba_stages['tokenise']:.1f}×; "
          f"full cycle jieba/rjieba: {jieba_s / rjieba_s:.2f}×")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500, help="dataset messages to serve (max 3,462)")
    parser.add_argument("--feeds", type=int, default=4, help="loopback feeds they are spread over")
    parser.add_argument("--full", action="store_true", help="3,000 items over 20 feeds")
    args = parser.parse_args(argv)
    if args.full:
        args.items, args.feeds = 3000, 20
    header("ingest")
    playbook = bench_playbook()
    other = bench_playbook("jieba" if playbook.tokenizer == "rjieba" else "rjieba")
    models, other_models = models_dir(), models_dir(other.tokenizer)
    bodies = feeds(args.items, args.feeds)
    httpd = serve(bodies)
    port = httpd.server_address[1]
    sources = [{"name": f"f{k}", "kind": "feed", "url": f"http://127.0.0.1:{port}/{k}.xml"}
               for k in range(args.feeds)]
    config = parse_sources({"fetch": {"per_host_min_delay": 0}, "sources": sources}, {}, "bench")
    try:
        warm = parse_feed("warm", "http://127.0.0.1/", bodies[0], None)[0][0]
        stored, full, stages = run_cycle(config, models, None, warm, playbook)
        stored_nc, no_classify, _ = run_cycle(config, models, NoAnnotation(), warm, playbook)
        runs = {playbook.tokenizer: (stored, full, stages),
                other.tokenizer: run_cycle(config, other_models, None, warm, other)}
    finally:
        httpd.shutdown()
    parsed, parse_s = parse_only(bodies)
    ours_s = parse_ours(bodies)
    rate, base = stored / full, parsed / parse_s
    print(f"items: {stored} stored of {parsed} parsed, {args.feeds} loopback feeds, models from {models} "
          f"(tokenizer {playbook.tokenizer}; {other.tokenizer} models from {other_models})")
    print(f"full pipeline:            {rate:9,.1f} items/s ({full:.2f} s)")
    print(f"pipeline, classify stub:  {stored_nc / no_classify:9,.1f} items/s ({no_classify:.2f} s; "
          f"classify ≈ {100 * (1 - no_classify / full):.0f} % of the full time)")
    print(f"feedparser alone:         {base:9,.1f} items/s ({parse_s:.3f} s, best of 3)")
    print("full pipeline by stage (parse: our feed parser on the same bytes, outside the cycle, best of 3):")
    print_stages(stored, full, ours_s, stages, base)
    print_tokenizers(runs)
    ratio = rate / base
    print(f"RATIO pipeline/feedparser: {ratio:.4f}")
    verdict("ingest ratio", ratio, TARGET, at_most=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
