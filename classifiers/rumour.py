"""Rumour probability of a post and the verdict the duty desk sees.

Features: the post text (word TF-IDF via our tokenizer + character 1–2-grams),
the text of its reposts/comments (readers saying 谣言/辟谣/假的/求证 is the
strongest early signal), spread numbers (reaction velocity, share of doubting reactions) and the
poster's verified flag and followers when the source gives them (missing
values are imputed, so a source without user data is not read as "unknown
author"). See classifiers/README.md for why raw counts are left out. A calibrated linear model turns these
into a probability; :func:`verdict` maps it to one of three verdicts using the
playbook's band ``rumour.verify_low``/``verify_high``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from classifiers.errors import DataError, NotFittedError
from classifiers.explain import top_terms_many
from classifiers.features import NUMERIC_FEATURES, RecordColumns
from classifiers.tokenizer import Tokenizer
from classifiers.verdicts import VERDICT_CLEAR, VERDICT_RUMOUR, VERDICT_VERIFY, VERDICTS, verdict  # noqa: F401
from playbooks.schema import RumourPolicy

POSITIVE_LABELS: Final = frozenset({"rumour", "rumor", "fake", "谣言", "1", "true"})
NEGATIVE_LABELS: Final = frozenset({"non-rumour", "non-rumor", "real", "非谣言", "0", "false"})


def parse_label(value: Any, *, source: str | None = None, line: int | None = None) -> int:
    """1 for a rumour label, 0 for a non-rumour label, else :class:`DataError` naming file and line."""
    text = str(value).strip().lower() if value is not None else ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    if text in POSITIVE_LABELS:
        return 1
    if text in NEGATIVE_LABELS:
        return 0
    raise DataError(
        f"unknown rumour label {value!r} (rumour: {', '.join(sorted(POSITIVE_LABELS))}; "
        f"not rumour: {', '.join(sorted(NEGATIVE_LABELS))})",
        source=source,
        line=line,
    )


def build_rumour_pipeline(
    tokenizer: Tokenizer,
    *,
    use_reactions: bool = True,
    C: float = 30.0,
    calibration_folds: int = 5,
    max_features: int = 20000,
    random_state: int = 0,
) -> Pipeline:
    """The unfitted rumour pipeline: records in, calibrated P(rumour) out."""
    columns: list[tuple[str, Any, Any]] = [
        ("post", _tfidf(tokenizer, 2, max_features), 0),
        ("post_chars", _tfidf("char", 2, max_features, (1, 2)), 0),
    ]
    numbers = list(range(2, 2 + len(NUMERIC_FEATURES)))
    if use_reactions:
        columns.append(("reactions", _tfidf(tokenizer, 3, max_features), 1))
    else:
        numbers = numbers[3:]  # author only
    scaler = Pipeline(
        [("impute", SimpleImputer(strategy="mean", keep_empty_features=True)), ("scale", StandardScaler())]
    )
    columns.append(("numbers", scaler, numbers))
    features = ColumnTransformer(columns, sparse_threshold=1.0)
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced", random_state=random_state)
    classifier = CalibratedClassifierCV(model, method="sigmoid", cv=calibration_folds, ensemble=False)
    return Pipeline(
        [("columns", RecordColumns(use_reactions=use_reactions)), ("features", features), ("clf", classifier)]
    )


def _tfidf(
    analyzer: Any, min_df: int, max_features: int, ngrams: tuple[int, int] = (1, 1)
) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float32,
    )


@dataclass(frozen=True)
class RumourResult:
    """P(rumour), its verdict and the terms that raised it."""

    probability: float
    verdict: str
    why: list[str]


class RumourModel:
    """Fitted rumour pipeline plus the playbook band that turns probabilities into verdicts."""

    def __init__(self, pipeline: Pipeline, policy: RumourPolicy) -> None:
        self.pipeline = pipeline
        self.policy = policy

    def fit(self, records: Sequence[Mapping[str, Any]], y: Sequence[int]) -> RumourModel:
        from classifiers.topic import compact_vectorizers

        self.pipeline.fit(list(records), np.asarray(y, dtype=int))
        compact_vectorizers(self.pipeline)
        return self

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """P(rumour) for each record."""
        try:
            classes = list(self.pipeline.classes_)
        except AttributeError:
            raise NotFittedError("rumour model is not trained") from None
        proba = self.pipeline.predict_proba(list(records))
        column: np.ndarray = proba[:, classes.index(1)]
        return column

    def classify(self, records: Sequence[Mapping[str, Any]], *, top_terms_n: int = 5) -> list[RumourResult]:
        records = list(records)
        features = self.pipeline[:-1].transform(records)
        clf = self.pipeline.steps[-1][1]
        positive = list(clf.classes_).index(1)
        proba = clf.predict_proba(features)[:, positive]
        # the "why" only for posts that may be rumours: a clear one needs none
        labels = [clf.classes_[positive] if float(p) >= self.policy.verify_low else None for p in proba]
        whys = top_terms_many(self.pipeline, features, labels, top=top_terms_n)
        return [RumourResult(round(float(p), 4), verdict(float(p), self.policy), why)
                for p, why in zip(proba, whys, strict=True)]
