"""Which terms pushed a linear model towards its answer (the alert's "why")."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

NUMERIC_BLOCK = "numbers__"


def linear_coefficients(classifier: Any) -> tuple[np.ndarray, np.ndarray]:
    """(coef rows, classes) of a linear model, averaged over calibration folds."""
    if isinstance(classifier, CalibratedClassifierCV):
        coefs = [np.asarray(c.estimator.coef_) for c in classifier.calibrated_classifiers_]
        return np.mean(coefs, axis=0), np.asarray(classifier.classes_)
    return np.asarray(classifier.coef_), np.asarray(classifier.classes_)


def _readable(name: str) -> str:
    return name.split("__", 1)[-1]


def top_terms(
    pipeline: Pipeline, record_features: sparse.spmatrix, label: Any, *, top: int = 5, min_chars: int = 2
) -> list[str]:
    """Terms of one transformed row that add most to ``label``'s decision score.

    Single characters are skipped: "污" means little to a duty officer even if
    the char n-grams weigh it.
    """
    coef, classes = linear_coefficients(pipeline.steps[-1][1])
    if coef.shape[0] == 1:  # binary: the row scores classes[1]
        sign = 1.0 if label == classes[1] else -1.0
        weights = sign * coef[0]
    else:
        weights = coef[int(np.flatnonzero(classes == label)[0])]
    row = sparse.csr_matrix(record_features)[0]
    contrib = row.data * weights[row.indices]
    names = _feature_names(pipeline)
    order = np.argsort(-contrib)
    out: list[str] = []
    for idx in order:
        if contrib[idx] <= 0 or len(out) >= top:
            break
        name = str(names[row.indices[idx]])
        if name.startswith(NUMERIC_BLOCK):  # spread numbers are not terms a reader can check
            continue
        term = _readable(name)
        if len(term.strip()) >= min_chars and term not in out and not any(term in t for t in out):
            out.append(term)
    return out


_NAMES: weakref.WeakKeyDictionary[Pipeline, np.ndarray] = weakref.WeakKeyDictionary()


def _feature_names(pipeline: Pipeline) -> np.ndarray:
    """Feature names of a fitted pipeline, cached beside it (not on it: it may be saved later)."""
    names = _NAMES.get(pipeline)
    if names is None:
        names = _NAMES[pipeline] = pipeline[-2].get_feature_names_out()
    return names
