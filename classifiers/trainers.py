"""Train, cross-validate and save the topic and rumour models (what ``yuqing train`` runs).

Metrics in each manifest come from k-fold cross-validation on the training
data only; held-out evaluation data is never read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from classifiers.errors import DataError
from classifiers.evaluation import binary_metrics
from classifiers.modelio import Manifest, save_model
from classifiers.rumour import RumourModel, build_rumour_pipeline
from classifiers.tokenizer import Tokenizer
from classifiers.topic import TopicModel, build_topic_pipeline, cross_validate, topic_labels_for
from playbooks.schema import Playbook

TRAINING_CACHE = 1_000_000  # tokenised texts kept while cross-validating (each text is cut once)

RumourGroup = tuple[Path, Sequence[Mapping[str, Any]], Sequence[int]]


def training_tokenizer(playbook: Playbook) -> Tokenizer:
    """The playbook tokenizer (its segmenter, user words and stop words) with a memo cache, so CV
    folds do not re-cut the same texts. The saved model keeps this segmenter."""
    return Tokenizer(playbook.user_words(), playbook.stopwords, cache_size=TRAINING_CACHE, engine=playbook.tokenizer)


def _finish(tokenizer: Tokenizer) -> None:
    tokenizer.clear_cache()
    tokenizer.cache_size = 0


def train_topic_model(
    records: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    playbook: Playbook,
    out: Path,
    *,
    native: bool = False,
    data_files: Sequence[Path] = (),
    folds: int = 5,
    seed: int = 0,
) -> Manifest:
    """Cross-validate, fit on everything and save a topic model directory."""
    targets = topic_labels_for(records, labels, playbook, native=native)
    inner = calibration_folds_for(targets, folds)
    tokenizer = training_tokenizer(playbook)
    pipeline = build_topic_pipeline(tokenizer, calibration_folds=inner, random_state=seed)
    rules = None if native else playbook.training
    metrics = cross_validate(pipeline, records, targets, folds=folds, seed=seed, rules=rules)
    model = TopicModel(clone(pipeline)).fit(records, targets)
    _finish(tokenizer)
    params = {
        "native": native,
        "labels": sorted(set(targets)),
        "records": len(records),
        "seed": seed,
        "calibration_folds": inner,
    }
    return save_model(
        model.pipeline, out, kind="topic", data_files=data_files, metrics=metrics, params=params
    )


def calibration_folds_for(targets: Sequence[Any], folds: int) -> int:
    """Inner calibration folds (at most 5) that the smallest class can fill inside every CV fold.

    Raises :class:`DataError` naming the classes too small to train on.
    """
    counts: dict[Any, int] = {}
    for t in targets:
        counts[t] = counts.get(t, 0) + 1
    if len(counts) < 2:
        raise DataError(f"training needs at least two classes, got {sorted(map(str, counts))}")
    if folds < 2:
        raise DataError(f"cross-validation needs at least 2 folds, got {folds}")
    smallest = min(counts.values())
    inner = min(5, smallest - -(-smallest // folds))  # examples left in the training part of a fold
    if smallest < folds or inner < 2:
        small = sorted(str(k) for k, n in counts.items() if n == smallest)
        raise DataError(
            f"class {', '.join(small)} has only {smallest} examples: too few for {folds}-fold "
            "cross-validation with calibration (add examples or lower --folds)"
        )
    return inner


def rumour_metrics(
    groups: Sequence[RumourGroup],
    tokenizer: Tokenizer,
    *,
    folds: int,
    use_reactions: bool,
    seed: int = 0,
    calibration_folds: int = 5,
) -> dict[str, Any]:
    """CV on all groups pooled (reported overall and per file) plus cross-file figures."""
    records = [r for _, recs, _ in groups for r in recs]
    y = np.asarray([v for _, _, ys in groups for v in ys])
    origin = np.asarray([i for i, (_, recs, _) in enumerate(groups) for _ in recs])
    pipeline = build_rumour_pipeline(
        tokenizer, use_reactions=use_reactions, random_state=seed, calibration_folds=calibration_folds
    )
    strata = y * len(groups) + origin  # keep each file's class balance in every fold
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(pipeline, records, y, cv=cv.split(records, strata), method="predict_proba")[
        :, 1
    ]
    metrics: dict[str, Any] = {
        "cv_folds": folds,
        "use_reactions": use_reactions,
        "cv_pooled": binary_metrics(y, proba),
    }
    for i, (path, _, _) in enumerate(groups):
        mask = origin == i
        metrics[f"cv_pooled[{_name(path)}]"] = binary_metrics(y[mask], proba[mask])
    if len(groups) > 1:  # each file on its own, as its dataset's papers report it
        for path, recs, ys in groups:
            own = cross_val_predict(
                pipeline,
                list(recs),
                np.asarray(ys),
                cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                method="predict_proba",
            )[:, 1]
            metrics[f"cv[{_name(path)}]"] = binary_metrics(np.asarray(ys), own)
    for i, (src, src_recs, src_y) in enumerate(groups):
        for j, (dst, dst_recs, dst_y) in enumerate(groups):
            if i != j:
                fitted = clone(pipeline).fit(list(src_recs), np.asarray(src_y))
                p = fitted.predict_proba(list(dst_recs))[:, list(fitted.classes_).index(1)]
                metrics[f"cross[{_name(src)}→{_name(dst)}]"] = binary_metrics(dst_y, p)
    return metrics


def _name(path: Path) -> str:
    path = Path(path)
    return path.parent.name if path.stem == "train" else path.stem


def train_rumour_model(
    groups: Sequence[RumourGroup],
    playbook: Playbook,
    out: Path,
    *,
    folds: int = 5,
    use_reactions: bool = True,
    seed: int = 0,
) -> Manifest:
    """Cross-validate, fit on all files pooled and save a rumour model directory."""
    if not groups:
        raise DataError("no training files given")
    y_all = [v for _, _, ys in groups for v in ys]
    inner = min(calibration_folds_for(ys, folds) for _, _, ys in groups)
    tokenizer = training_tokenizer(playbook)
    metrics = rumour_metrics(
        groups, tokenizer, folds=folds, use_reactions=use_reactions, seed=seed, calibration_folds=inner
    )
    records = [r for _, recs, _ in groups for r in recs]
    pipeline = build_rumour_pipeline(
        tokenizer, use_reactions=use_reactions, random_state=seed, calibration_folds=inner
    )
    model = RumourModel(pipeline, playbook.rumour).fit(records, y_all)
    _finish(tokenizer)
    params = {
        "use_reactions": use_reactions,
        "records": len(records),
        "seed": seed,
        "calibration_folds": inner,
    }
    return save_model(
        model.pipeline,
        out,
        kind="rumour",
        data_files=[p for p, _, _ in groups],
        metrics=metrics,
        params=params,
    )
