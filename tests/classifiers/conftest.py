"""Fixtures: the playbook, dataset subsets read through settings, small trained models.

Datasets are found via ``YUQING_DATASETS_DIR`` or the settings default
(``../shared/datasets``); dataset texts are never copied into the repository.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from classifiers.rumour import RumourModel, build_rumour_pipeline, parse_label
from classifiers.tokenizer import Tokenizer
from classifiers.topic import TopicModel, build_topic_pipeline
from playbooks.schema import Playbook
from yuqing.settings import load_settings


def _datasets_dir() -> Path:
    return load_settings().datasets_dir


@functools.cache
def _records(path: Path) -> tuple[dict[str, Any], ...]:
    """Every record of *path*, parsed once per test process: the Weibo rumour set alone takes seconds to
    parse, and five fixtures and tests sample it."""
    with open(path, encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def read_subset(name: str, n: int, *, seed: int = 0, stratify: str = "label") -> list[dict[str, Any]]:
    """A deterministic class-balanced subset of a dataset's train.jsonl (fails if absent); the records are
    copies, so a test that changes one changes nothing another test reads."""
    path = _datasets_dir() / name / "train.jsonl"
    if not path.is_file():
        pytest.fail(f"dataset not found: {path} (set YUQING_DATASETS_DIR)")
    by_label: dict[str, list[dict[str, Any]]] = {}
    for r in _records(path):
        by_label.setdefault(str(r.get(stratify)), []).append(r)
    rng = random.Random(seed)
    per = max(1, n // len(by_label))
    out = []
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        out.extend(group[:per])
    rng.shuffle(out)
    return copy.deepcopy(out)


Subset = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="session")
def subset() -> Subset:
    """``subset(name, n, seed=0)``: a class-balanced sample of a dataset."""
    return read_subset


@pytest.fixture(scope="session")
def tokenizer(playbook: Playbook) -> Tokenizer:
    return Tokenizer.from_playbook(playbook)


@pytest.fixture(scope="session")
def topic_records() -> list[dict[str, Any]]:
    return read_subset("gov-messages", 420)


@pytest.fixture(scope="session")
def topic_model(tokenizer: Tokenizer, topic_records: list[dict[str, Any]]) -> TopicModel:
    model = TopicModel(build_topic_pipeline(tokenizer, calibration_folds=3, max_features=5000))
    return model.fit(topic_records, [r["label"] for r in topic_records])


@pytest.fixture(scope="session")
def rumour_records() -> list[dict[str, Any]]:
    ced = read_subset("weibo-rumours", 160, seed=1)
    covid = read_subset("weibo-covid-rumours", 80, seed=1)
    return ced + covid


@pytest.fixture(scope="session")
def rumour_model(
    tokenizer: Tokenizer, rumour_records: list[dict[str, Any]], playbook: Playbook
) -> RumourModel:
    model = RumourModel(
        build_rumour_pipeline(tokenizer, calibration_folds=3, max_features=5000), playbook.rumour
    )
    return model.fit(rumour_records, [parse_label(r["label"]) for r in rumour_records])
