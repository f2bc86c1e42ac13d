"""The "why" names each feature as scikit-learn does, without holding every name, and weighs a batch as
each row alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from classifiers.explain import NUMERIC_BLOCK, feature_name, linear_coefficients, top_terms, top_terms_many
from classifiers.rumour import RumourModel
from classifiers.topic import TopicModel


def test_feature_names_match_scikit_learns_for_every_feature(topic_model: TopicModel,
                                                             rumour_model: RumourModel) -> None:
    """Word and character vectorisers, and the rumour model's numeric block (names built from inputs)."""
    rumour_names = [str(n) for n in rumour_model.pipeline[-2].get_feature_names_out()]
    assert any(n.startswith("numbers__") for n in rumour_names)
    for pipeline in (topic_model.pipeline, rumour_model.pipeline):
        full = [str(n) for n in pipeline[-2].get_feature_names_out()]
        assert [feature_name(pipeline, i) for i in range(len(full))] == full


def _reference_top_terms(pipeline: Pipeline, row: sparse.csr_matrix, label: Any, top: int = 5) -> list[str]:
    """The "why" worked out from scratch for one row: fold coefficients averaged here, every name from
    scikit-learn's full list."""
    clf = pipeline.steps[-1][1]
    coef = np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0)
    if coef.shape[0] == 1:
        weights = (1.0 if label == clf.classes_[1] else -1.0) * coef[0]
    else:
        weights = coef[list(clf.classes_).index(label)]
    names = [str(n) for n in pipeline[-2].get_feature_names_out()]
    contrib = row.data * weights[row.indices]
    out: list[str] = []
    for idx in np.argsort(-contrib):
        if contrib[idx] <= 0 or len(out) >= top:
            break
        name = names[row.indices[idx]]
        term = name.split("__", 1)[-1]
        if not name.startswith(NUMERIC_BLOCK) and len(term.strip()) >= 2 and not any(term in t for t in out):
            out.append(term)
    return out


def test_a_batch_explains_each_row_as_the_row_alone(topic_model: TopicModel, rumour_model: RumourModel,
                                                    topic_records: list[dict[str, Any]]) -> None:
    """One product over the batch, cached coefficients and names: the terms a row alone gets from scratch."""
    records = topic_records[:40]
    for pipeline in (topic_model.pipeline, rumour_model.pipeline):
        features = sparse.csr_matrix(pipeline[:-1].transform(records))
        classes = list(pipeline.steps[-1][1].classes_)
        labels = [None if i % 7 == 3 else classes[i % len(classes)] for i in range(len(records))]
        batch = top_terms_many(pipeline, features, labels)
        assert [b for b, label in zip(batch, labels, strict=True) if label is None] == [[]] * labels.count(None)
        expected = [[] if label is None else _reference_top_terms(pipeline, features[i], label)
                    for i, label in enumerate(labels)]
        assert batch == expected and any(batch)
        assert top_terms(pipeline, features[0], labels[0]) == expected[0]


def test_a_batch_needs_one_label_a_row(topic_model: TopicModel, topic_records: list[dict[str, Any]]) -> None:
    features = topic_model.pipeline[:-1].transform(topic_records[:3])
    with pytest.raises(ValueError, match="3 feature rows but 2 labels"):
        top_terms_many(topic_model.pipeline, features, topic_model.classes[:2])


def test_fold_coefficients_are_averaged_once_per_fit_and_again_after_a_refit() -> None:
    """The cache is read, not recomputed, until the model is fitted again; then the new folds count."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 4)), np.array([0, 1] * 30)
    clf = CalibratedClassifierCV(LinearSVC(), cv=2).fit(x, y)
    coef, classes = linear_coefficients(clf)
    assert linear_coefficients(clf)[0] is coef and not coef.flags.writeable
    assert np.array_equal(coef, np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0))
    assert list(classes) == [0, 1]
    clf.fit(x[:, ::-1], y[::-1])
    refit, _ = linear_coefficients(clf)
    assert refit is not coef
    assert np.array_equal(refit, np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0))


def test_a_plain_linear_model_keeps_its_own_arrays_writeable() -> None:
    """The cache freezes a copy, not the estimator's ``coef_`` (a later warm start writes to it)."""
    rng = np.random.default_rng(1)
    clf = LogisticRegression().fit(rng.normal(size=(40, 3)), np.array([0, 1] * 20))
    coef, _ = linear_coefficients(clf)
    assert np.array_equal(coef, clf.coef_) and coef is not clf.coef_ and clf.coef_.flags.writeable
