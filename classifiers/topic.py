"""Topic category of a citizen message: which hot-issue category and who answers.

Pipeline: title and text → word TF-IDF (our tokenizer) + character n-gram
TF-IDF (robust to segmentation errors on names and typos) → LinearSVC with
sigmoid-calibrated probabilities, so ``category_scores`` can be compared with
thresholds. The same pipeline trains on the dataset's 7 native labels (to
measure it) or on playbook categories made by :func:`playbook_labels`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from classifiers.errors import DataError, NotFittedError
from classifiers.explain import top_terms_many
from classifiers.features import TextColumns, field_text
from classifiers.tokenizer import Tokenizer
from playbooks.schema import Playbook, RelabelRule, Training


def _word_tfidf(tokenizer: Tokenizer, min_df: int, max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=tokenizer, sublinear_tf=True, min_df=min_df, max_features=max_features, dtype=np.float32
    )


def _char_tfidf(ngrams: tuple[int, int], min_df: int, max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=ngrams,
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float32,
    )


def build_topic_pipeline(
    tokenizer: Tokenizer,
    *,
    C: float = 1.0,
    calibration_folds: int = 5,
    max_features: int = 20000,
    random_state: int = 0,
) -> Pipeline:
    """The unfitted topic pipeline; records in, calibrated class probabilities out."""
    features = ColumnTransformer(
        [
            ("title", _word_tfidf(tokenizer, 1, max_features), 0),
            ("text", _word_tfidf(tokenizer, 2, max_features), 1),
            ("title_chars", _char_tfidf((1, 3), 2, max_features), 0),
            ("text_chars", _char_tfidf((1, 2), 2, max_features), 1),
        ],
        sparse_threshold=1.0,
    )
    svc = LinearSVC(C=C, random_state=random_state)
    classifier = CalibratedClassifierCV(svc, method="sigmoid", cv=calibration_folds, ensemble=False)
    return Pipeline(
        [("columns", TextColumns(("title", "text"))), ("features", features), ("clf", classifier)]
    )


def compact_vectorizers(pipeline: Pipeline) -> Pipeline:
    """Shrink fitted vectorisers before saving.

    ``stop_words_`` lists every pruned term and is unused when predicting;
    vocabulary indices become plain ints because skops writes each numpy
    scalar as its own file (tens of thousands of entries otherwise).
    """
    for _, vectorizer, _ in pipeline.named_steps["features"].transformers_:
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
        if hasattr(vectorizer, "vocabulary_"):
            vectorizer.vocabulary_ = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
    return pipeline


def _rule_hits(record: Mapping[str, Any], rule: RelabelRule) -> list[str]:
    text = field_text(record, "title") + "\n" + field_text(record, "text")
    return [k for k in rule.keywords if k in text]


def playbook_labels(
    records: Sequence[Mapping[str, Any]], labels: Sequence[str], training: Training
) -> list[str]:
    """Native labels → playbook categories: ``label_map``, then ``relabel`` keyword rules in order.

    A rule moves a message whose native label is in ``from_labels`` and whose
    title+text contains at least ``min_hits`` distinct rule keywords; the first
    matching rule wins.
    """
    out = []
    for i, (record, native) in enumerate(zip(records, labels, strict=True)):
        if native not in training.label_map:
            raise DataError(f"label {native!r} is not in the playbook's training.label_map", line=i + 1)
        category = training.label_map[native]
        for rule in training.relabel:
            if native in rule.from_labels and len(_rule_hits(record, rule)) >= rule.min_hits:
                category = rule.category
                break
        out.append(category)
    return out


def rule_category(record: Mapping[str, Any], category: str, training: Training) -> tuple[str, list[str]]:
    """Apply the relabel rules to a *predicted* category, as they were applied to the labels.

    A rule fires when the prediction is the image of one of its ``from_labels``
    (e.g. 市政 for 城乡建设) and the keywords match. The carved-out classes have
    few examples (拆迁 20), so the model alone under-predicts them; the rule
    that defined them recovers them. Returns the category and the keywords hit.
    """
    for rule in training.relabel:
        sources = {training.label_map.get(label) for label in rule.from_labels}
        if category in sources:
            hits = _rule_hits(record, rule)
            if len(hits) >= rule.min_hits:
                return rule.category, hits
    return category, []


@dataclass(frozen=True)
class TopicResult:
    """A category with the calibrated probability of every category and the terms behind it."""

    category: str
    scores: dict[str, float]
    why: list[str]


class TopicModel:
    """Fitted topic pipeline with the operations other stages need."""

    def __init__(self, pipeline: Pipeline, rules: Training | None = None) -> None:
        self.pipeline = pipeline
        self.rules = rules  # playbook relabel rules, for a model trained on playbook categories

    @property
    def classes(self) -> list[str]:
        try:
            return [str(c) for c in self.pipeline.classes_]
        except AttributeError:
            raise NotFittedError("topic model is not trained") from None

    def fit(self, records: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> TopicModel:
        self.pipeline.fit(list(records), np.asarray(labels))
        compact_vectorizers(self.pipeline)
        return self

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        classes = self.classes
        proba = self.pipeline.predict_proba(list(records))
        assert proba.shape[1] == len(classes)
        out: np.ndarray = proba
        return out

    def classify(self, records: Sequence[Mapping[str, Any]], *, top_terms_n: int = 5) -> list[TopicResult]:
        """Category, rounded scores and top terms for each record."""
        classes = self.classes
        records = list(records)
        features = self.pipeline[:-1].transform(records)
        proba = self.pipeline.steps[-1][1].predict_proba(features)
        best = [classes[int(np.argmax(row))] for row in proba]
        whys = top_terms_many(self.pipeline, features, best, top=top_terms_n)
        results = []
        for i, row in enumerate(proba):
            scores = {c: round(float(p), 4) for c, p in zip(classes, row, strict=True)}
            results.append(self._with_rules(records[i], TopicResult(best[i], scores, whys[i])))
        return results

    def _with_rules(self, record: Mapping[str, Any], result: TopicResult) -> TopicResult:
        """Let a matching relabel rule override; the two categories swap scores so the top score stays the answer."""
        if self.rules is None:
            return result
        category, hits = rule_category(record, result.category, self.rules)
        if category == result.category:
            return result
        scores = dict(result.scores)
        scores[category], scores[result.category] = scores[result.category], scores.get(category, 0.0)
        return TopicResult(category, scores, hits + [w for w in result.why if w not in hits])


def cross_validate(
    pipeline: Pipeline,
    records: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    rules: Training | None = None,
) -> dict[str, Any]:
    """Stratified k-fold predictions → macro-F1, accuracy and per-class report.

    With ``rules`` the out-of-fold predictions go through :func:`rule_category`
    as the bundled model's do; ``model_only_macro_f1`` keeps the figure without.
    """
    y = np.asarray(labels)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(pipeline, list(records), y, cv=cv)
    extra: dict[str, Any] = {}
    if rules is not None:
        extra["model_only_macro_f1"] = round(float(f1_score(y, pred, average="macro")), 4)
        pred = np.asarray([rule_category(r, str(p), rules)[0] for r, p in zip(records, pred, strict=True)])
    report = classification_report(y, pred, output_dict=True, zero_division=0)
    return {
        "cv_folds": folds,
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "per_class": {
            str(k): {m: round(float(v[m]), 4) for m in ("precision", "recall", "f1-score", "support")}
            for k, v in report.items()
            if isinstance(v, dict) and k not in ("macro avg", "weighted avg")
        },
        **extra,
    }


def topic_labels_for(
    records: Sequence[Mapping[str, Any]], labels: Sequence[str], playbook: Playbook, *, native: bool
) -> list[str]:
    """Training targets: the native labels, or playbook categories."""
    return list(labels) if native else playbook_labels(records, labels, playbook.training)
