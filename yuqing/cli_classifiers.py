"""``yuqing train|classify|eval``: train, apply and measure the classifiers.

Registered on the root group in ``yuqing/cli.py``. Reading JSON Lines never
stops at a bad line: the line is reported as ``FILE:LINE: message`` on stderr
and the rest goes on (training refuses to start on a bad label instead,
because a silently dropped label changes the model).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from classifiers.errors import ClassifierError, DataError

EARLY_HOURS = (1, 6, 24)


# -- shared helpers -----------------------------------------------------------


def _playbook() -> Any:
    from playbooks.loader import PolicyFileError, load_playbook
    from yuqing.settings import SettingsError, load_settings

    try:
        return load_playbook(load_settings().playbook)
    except (PolicyFileError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None


def _training_playbook(tokenizer: str | None) -> Any:
    """The playbook, with its tokenizer replaced when ``--tokenizer`` names another."""
    playbook = _playbook()
    return playbook if tokenizer is None else playbook.model_copy(update={"tokenizer": tokenizer})


_TOKENIZER_OPTION = click.option(
    "--tokenizer",
    type=click.Choice(["jieba", "rjieba"]),
    default=None,
    help="Segmenter to train with (default: the playbook's 'tokenizer'); the model records it and "
    "loads only under a playbook that chooses the same.",
)


def _models_dir() -> Path:
    from yuqing.settings import load_settings

    return load_settings().models_dir


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | DataError]]:
    """(line number, record or the error for that line); blank lines are skipped."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, DataError(f"not valid JSON: {exc.msg}", source=str(path), line=number)
                continue
            if not isinstance(record, dict):
                yield number, DataError("expected a JSON object", source=str(path), line=number)
                continue
            yield number, record


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """All good records of a file; bad lines are reported on stderr."""
    good = []
    for number, item in iter_jsonl(path):
        if isinstance(item, DataError):
            click.echo(f"error: {item}", err=True)
        else:
            good.append((number, item))
    return good


def _progress(iterable: Any, total: int | None, desc: str) -> Any:
    """A tqdm bar on a terminal, nothing when piped."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


# -- train ---------------------------------------------------------------------


@click.group()
def train() -> None:
    """Train a model from JSON Lines and write a model directory (model.skops + manifest.json)."""


def _labelled(path: Path, label_field: str) -> tuple[list[dict[str, Any]], list[Any], list[int]]:
    records, labels, lines = [], [], []
    for number, record in read_records(path):
        if label_field not in record:
            raise DataError(f"record has no {label_field!r} field", source=str(path), line=number)
        records.append(record)
        labels.append(record[label_field])
        lines.append(number)
    if not records:
        raise DataError("no usable records", source=str(path))
    return records, labels, lines


@train.command("topic")
@click.option(
    "--data",
    "data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON Lines with title, text and a label (default: DATASETS_DIR/gov-messages/train.jsonl).",
)
@click.option("--label-field", default="label", show_default=True, help="Field holding the native label.")
@click.option(
    "--native",
    is_flag=True,
    help="Train on the native labels as they are (to measure); default maps them to playbook categories.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Model directory to write.",
)
@click.option(
    "--folds", default=5, show_default=True, help="Cross-validation folds for the manifest metrics."
)
@_TOKENIZER_OPTION
def train_topic(
    data: Path | None, label_field: str, native: bool, out: Path, folds: int, tokenizer: str | None
) -> None:
    """Train the topic model; cross-validated metrics go into the manifest."""
    from classifiers.trainers import train_topic_model
    from yuqing.settings import load_settings

    data = data or load_settings().datasets_dir / "gov-messages" / "train.jsonl"
    try:
        records, labels, lines = _labelled(data, label_field)
        playbook = _training_playbook(tokenizer)
        if not native:  # name the file line of a label the playbook cannot map
            for value, number in zip(labels, lines, strict=True):
                if str(value) not in playbook.training.label_map:
                    raise DataError(
                        f"label {value!r} is not in the playbook's training.label_map (or use --native)",
                        source=str(data),
                        line=number,
                    )
        manifest = train_topic_model(
            records, [str(x) for x in labels], playbook, out, native=native, data_files=[data], folds=folds
        )
    except (ClassifierError, OSError) as exc:
        raise _fail(exc) from None
    m = manifest.metrics
    click.echo(f"topic model ({'native labels' if native else 'playbook categories'}, "
               f"{manifest.tokenizer}) → {out}")
    click.echo(
        f"cv macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f} ({folds}-fold, {len(records)} records)"
    )


@train.command("rumour")
@click.option(
    "--data",
    "data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="JSON Lines with text, label and optional reposts/comments; repeat for several files "
    "(default: weibo-rumours and weibo-covid-rumours from DATASETS_DIR).",
)
@click.option("--label-field", default="label", show_default=True)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--folds", default=5, show_default=True)
@click.option("--text-only", is_flag=True, help="Ignore reposts, comments and user data.")
@_TOKENIZER_OPTION
def train_rumour(
    data: tuple[Path, ...], label_field: str, out: Path, folds: int, text_only: bool, tokenizer: str | None
) -> None:
    """Train the rumour model; labels rumour/fake/谣言/1/true vs non-rumour/real/0/false."""
    from classifiers.rumour import parse_label
    from classifiers.trainers import train_rumour_model
    from yuqing.settings import load_settings

    if not data:
        root = load_settings().datasets_dir
        data = (root / "weibo-rumours" / "train.jsonl", root / "weibo-covid-rumours" / "train.jsonl")
    try:
        groups = []
        for path in data:
            records, labels, lines = _labelled(path, label_field)
            y = [parse_label(v, source=str(path), line=n) for v, n in zip(labels, lines, strict=True)]
            groups.append((path, records, y))
        manifest = train_rumour_model(
            groups, _training_playbook(tokenizer), out, folds=folds, use_reactions=not text_only
        )
    except (ClassifierError, OSError) as exc:
        raise _fail(exc) from None
    click.echo(f"rumour model ({manifest.tokenizer}) → {out}")
    for name, figures in manifest.metrics.items():
        if isinstance(figures, dict) and "accuracy" in figures:
            click.echo(f"  {name}: accuracy {figures['accuracy']:.4f}, macro-F1 {figures['macro_f1']:.4f}")


# -- classify ------------------------------------------------------------------


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--topic-model",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Topic model directory (default: MODELS_DIR/topic).",
)
@click.option(
    "--rumour-model",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Rumour model directory (default: MODELS_DIR/rumour).",
)
@click.option("--batch-size", default=64, show_default=True)
def classify(file: Path, topic_model: Path | None, rumour_model: Path | None, batch_size: int) -> None:
    """Classify records (title, text, optional reposts) → one JSON line per input line, in order."""
    from classifiers.api import Classifier

    try:
        clf = Classifier.load(
            _playbook(), topic_dir=topic_model, rumour_dir=rumour_model, models_dir=_models_dir()
        )
    except ClassifierError as exc:
        raise _fail(exc) from None
    items = list(iter_jsonl(file))
    errors = 0
    for start in _progress(
        range(0, len(items), batch_size), total=-(-len(items) // batch_size), desc="classify"
    ):
        errors += _classify_batch(clf, items[start : start + batch_size], file)
    if errors:
        click.echo(f"{errors} line(s) of {file} could not be classified", err=True)


def _classify_batch(clf: Any, batch: Sequence[tuple[int, Any]], file: Path) -> int:
    """Write one output line per input line; an error line carries the error, in order."""
    good = [(n, r) for n, r in batch if not isinstance(r, DataError) and _check_record(r, file, n) is None]
    try:
        results = dict(zip([n for n, _ in good], clf.classify_many([r for _, r in good]), strict=True))
    except Exception:  # noqa: BLE001 - one bad record must not sink the batch: retry one by one
        results = {}
        for n, r in good:
            try:
                results[n] = clf.classify(r)
            except Exception as exc:  # noqa: BLE001 - reported per line, the run goes on
                results[n] = DataError(f"cannot classify: {exc}", source=str(file), line=n)
    errors = 0
    for number, record in batch:
        outcome = (
            record
            if isinstance(record, DataError)
            else _check_record(record, file, number) or results[number]
        )
        if isinstance(outcome, DataError):
            errors += 1
            click.echo(f"error: {outcome}", err=True)
            rid = record.get("id") if isinstance(record, Mapping) else None
            click.echo(json.dumps({"id": rid, "line": number, "error": str(outcome)}, ensure_ascii=False))
        else:
            click.echo(json.dumps({"id": record.get("id"), **outcome.to_dict()}, ensure_ascii=False))
    return errors


def _check_record(record: Mapping[str, Any], file: Path, line: int) -> DataError | None:
    for name in ("title", "text"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return DataError(f"field {name!r} must be a string", source=str(file), line=line)
    if not (record.get("title") or record.get("text")):
        return DataError("record has neither title nor text", source=str(file), line=line)
    reposts = record.get("reposts")
    if reposts is not None and not isinstance(reposts, list):
        return DataError("field 'reposts' must be a list of {text, time}", source=str(file), line=line)
    return None


# -- eval ----------------------------------------------------------------------


@click.group("eval")
def eval_group() -> None:
    """Measure a model on labelled JSON Lines (per-class scores and confusion matrix)."""


@eval_group.command("topic")
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--label-field", default="label", show_default=True)
@click.option(
    "--native/--playbook-labels",
    default=None,
    help="Compare with native labels or playbook categories (default: whatever the model was trained on).",
)
def eval_topic(data: Path, model_dir: Path | None, label_field: str, native: bool | None) -> None:
    """Per-class precision/recall/F1, macro-F1 and confusion matrix of a topic model."""
    from classifiers.api import load_topic_model
    from classifiers.evaluation import format_report
    from classifiers.topic import topic_labels_for

    try:
        playbook = _playbook()
        model, manifest = load_topic_model(model_dir, models_dir=_models_dir(), playbook=playbook)
        records, labels, _ = _labelled(data, label_field)
        use_native = manifest.params.get("native", False) if native is None else native
        truth = topic_labels_for(records, [str(x) for x in labels], playbook, native=bool(use_native))
        pred = [r.category for r in model.classify(records)]
    except ClassifierError as exc:
        raise _fail(exc) from None
    click.echo(format_report(truth, pred))


@eval_group.command("rumour")
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--label-field", default="label", show_default=True)
def eval_rumour(data: Path, model_dir: Path | None, label_field: str) -> None:
    """Rumour scores plus the early-detection curve (reposts within 1, 6, 24 hours)."""
    from classifiers.api import load_rumour_model
    from classifiers.evaluation import early_detection, format_report
    from classifiers.rumour import parse_label

    try:
        model, _ = load_rumour_model(_playbook(), model_dir, models_dir=_models_dir())
        records, labels, lines = _labelled(data, label_field)
        y = [parse_label(v, source=str(data), line=n) for v, n in zip(labels, lines, strict=True)]
        proba = model.predict_proba(records)
    except ClassifierError as exc:
        raise _fail(exc) from None
    names = {1: "rumour", 0: "non-rumour"}
    click.echo(format_report([names[v] for v in y], [names[int(p >= 0.5)] for p in proba]))
    click.echo("\nearly detection (accuracy using only reactions within the first N hours):")
    for hours, acc in early_detection(model, records, y, EARLY_HOURS):
        label = "all" if hours is None else f"{hours}h"
        click.echo(f"  {label:>4}: {acc:.4f}")


COMMANDS = (train, classify, eval_group)
