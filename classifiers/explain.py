"""Which terms pushed a linear model towards its answer (the alert's "why")."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
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
    order = np.argsort(-contrib)
    out: list[str] = []
    for idx in order:
        if contrib[idx] <= 0 or len(out) >= top:
            break
        name = feature_name(pipeline, int(row.indices[idx]))
        if name.startswith(NUMERIC_BLOCK):  # spread numbers are not terms a reader can check
            continue
        term = _readable(name)
        if len(term.strip()) >= min_chars and term not in out and not any(term in t for t in out):
            out.append(term)
    return out


_NAMES: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def feature_name(pipeline: Pipeline, index: int) -> str:
    """The name of output feature *index* of the pipeline's features step (``block__term``), as
    ``get_feature_names_out()`` gives it, without building every name.

    The full list makes a new prefixed string per feature (about 10 MB for both models' 95,000
    features, held for the process's life); here each block's own names are cached (a vectoriser's
    are its vocabulary's strings) and the prefix is added to the few terms a "why" shows.
    """
    features = pipeline[-2]
    slices = getattr(features, "output_indices_", None)
    if not isinstance(features, ColumnTransformer) or slices is None or not features.verbose_feature_names_out:
        return str(_cached(features, features.get_feature_names_out)[index])
    for name, transformer, columns in features.transformers_:
        part = slices.get(name)
        if part is not None and part.start <= index < part.stop and hasattr(transformer, "get_feature_names_out"):
            inputs = _input_names(features)[np.atleast_1d(columns)]
            names = _cached(transformer, lambda t=transformer, i=inputs: t.get_feature_names_out(i))
            return f"{name}__{names[index - part.start]}"
    return str(_cached(features, features.get_feature_names_out)[index])


def _input_names(features: ColumnTransformer) -> np.ndarray:
    names = getattr(features, "feature_names_in_", None)
    if names is None:
        names = np.asarray([f"x{i}" for i in range(features.n_features_in_)], dtype=object)
    return np.asarray(names, dtype=object)


def _cached(owner: Any, build: Any) -> np.ndarray:
    """*build()*'s names, cached beside *owner* (not on it: the model may be saved later)."""
    names = _NAMES.get(owner)
    if names is None:
        names = _NAMES[owner] = np.asarray(build(), dtype=object)
    return names
