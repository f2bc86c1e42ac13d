"""Which terms pushed a linear model towards its answer (the alert's "why").

What does not change between calls is worked out once per fitted model and cached beside it (not
on it: the model may be saved later): the coefficients averaged over calibration folds, one weight
row per class, and the table of feature names. A batch is then weighed in one product.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

NUMERIC_BLOCK = "numbers__"


@dataclass(frozen=True)
class _Coefficients:
    """A fitted linear model's averaged coefficients, and the fitted attribute they were read from
    (a refit replaces it, which makes the cached entry stale)."""

    source: Any
    coef: np.ndarray
    classes: np.ndarray
    by_class: np.ndarray  # row k: the weights that push towards classes[k]


_COEFS: weakref.WeakKeyDictionary[Any, _Coefficients] = weakref.WeakKeyDictionary()


def linear_coefficients(classifier: Any) -> tuple[np.ndarray, np.ndarray]:
    """(coef rows, classes) of a linear model, averaged over calibration folds (computed once per fit)."""
    cached = _coefficients(classifier)
    return cached.coef, cached.classes


def _coefficients(classifier: Any) -> _Coefficients:
    source = _fitted_source(classifier)
    cached = _COEFS.get(classifier)
    if cached is None or cached.source is not source:
        cached = _COEFS[classifier] = _average(classifier, source)
    return cached


def _fitted_source(classifier: Any) -> Any:
    if isinstance(classifier, CalibratedClassifierCV):
        return classifier.calibrated_classifiers_
    return classifier.coef_


def _average(classifier: Any, source: Any) -> _Coefficients:
    """Copies, never the model's own arrays: they are frozen below."""
    if isinstance(classifier, CalibratedClassifierCV):
        coef = np.mean([np.asarray(c.estimator.coef_) for c in source], axis=0)
    else:
        coef = np.array(source)
    classes = np.array(classifier.classes_)
    by_class = np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef  # binary: the row scores classes[1]
    for array in (coef, classes, by_class):
        array.setflags(write=False)  # shared by every call: a caller must not change it
    return _Coefficients(source, coef, classes, by_class)


def _class_row(coefficients: _Coefficients, label: Any) -> int:
    """The weight row for *label*; in a binary model any label but classes[1] reads the negated row."""
    if coefficients.coef.shape[0] == 1:
        return 1 if label == coefficients.classes[1] else 0
    return int(np.flatnonzero(coefficients.classes == label)[0])


def _readable(name: str) -> str:
    return name.split("__", 1)[-1]


def top_terms(
    pipeline: Pipeline, record_features: sparse.spmatrix, label: Any, *, top: int = 5, min_chars: int = 2
) -> list[str]:
    """Terms of one transformed row that add most to ``label``'s decision score.

    Single characters are skipped: "污" means little to a duty officer even if
    the char n-grams weigh it.
    """
    row = sparse.csr_matrix(record_features)[0]
    return top_terms_many(pipeline, row, [label], top=top, min_chars=min_chars)[0]


def top_terms_many(
    pipeline: Pipeline, features: sparse.spmatrix, labels: Sequence[Any], *, top: int = 5, min_chars: int = 2
) -> list[list[str]]:
    """:func:`top_terms` of every row of a transformed batch, row *i* for ``labels[i]``; a label of
    None skips its row (an empty list)."""
    rows = sparse.csr_matrix(features)
    if rows.shape[0] != len(labels):
        raise ValueError(f"{rows.shape[0]} feature rows but {len(labels)} labels")
    contrib = _contributions(rows, _coefficients(pipeline.steps[-1][1]), labels)
    features_step, table = pipeline[-2], _name_table(pipeline)

    def name_of(index: int) -> str:
        return _feature_name(features_step, table, index)

    out: list[list[str]] = []
    for i, label in enumerate(labels):
        part = slice(rows.indptr[i], rows.indptr[i + 1])
        out.append([] if label is None else _best_terms(name_of, rows.indices[part], contrib[part], top, min_chars))
    return out


def _contributions(rows: sparse.csr_matrix, coefficients: _Coefficients, labels: Sequence[Any]) -> np.ndarray:
    """Each stored entry's value times its feature's weight towards its row's label, for the whole batch
    in one product: element by element the numbers a row alone gives (a skipped row's stay 0)."""
    class_rows = np.array([-1 if label is None else _class_row(coefficients, label) for label in labels],
                          dtype=np.intp)
    per_entry = np.repeat(class_rows, np.diff(rows.indptr))
    weighed = per_entry >= 0
    contrib = np.zeros(len(rows.data), dtype=np.result_type(rows.data, coefficients.by_class))
    contrib[weighed] = rows.data[weighed] * coefficients.by_class[per_entry[weighed], rows.indices[weighed]]
    return contrib


def _best_terms(name_of: Callable[[int], str], indices: np.ndarray, contrib: np.ndarray,
                top: int, min_chars: int) -> list[str]:
    """The *top* readable terms of one row, largest positive contribution first; a term inside one
    already taken is skipped."""
    order = np.argsort(-contrib)
    out: list[str] = []
    for idx in order:
        if contrib[idx] <= 0 or len(out) >= top:
            break
        name = name_of(int(indices[idx]))
        if name.startswith(NUMERIC_BLOCK):  # spread numbers are not terms a reader can check
            continue
        term = _readable(name)
        if len(term.strip()) >= min_chars and term not in out and not any(term in t for t in out):
            out.append(term)
    return out


@dataclass(frozen=True)
class _NameTable:
    """Where each block of a ColumnTransformer's output starts and stops, with the block's own names,
    read once per fit (the fitted ``transformers_`` list, which a refit replaces, is kept to tell)."""

    source: Any
    blocks: tuple[tuple[int, int, str, np.ndarray], ...]  # start, stop, block name, its names

    def name(self, index: int) -> str | None:
        """``block__term`` for output feature *index*, or None when no named block holds it."""
        for start, stop, block, names in self.blocks:
            if start <= index < stop:
                return f"{block}__{names[index - start]}"
        return None


_NAMES: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()
_TABLES: weakref.WeakKeyDictionary[Any, _NameTable] = weakref.WeakKeyDictionary()


def feature_name(pipeline: Pipeline, index: int) -> str:
    """The name of output feature *index* of the pipeline's features step (``block__term``), as
    ``get_feature_names_out()`` gives it, without building every name.

    The full list makes a new prefixed string per feature (about 10 MB for both models' 95,000
    features, held for the process's life); here each block's own names are kept (a vectoriser's
    are its vocabulary's strings) and the prefix is added to the few terms a "why" shows.
    """
    return _feature_name(pipeline[-2], _name_table(pipeline), index)


def _feature_name(features: Any, table: _NameTable, index: int) -> str:
    name = table.name(index)
    if name is None:
        name = str(_cached(features, features.get_feature_names_out)[index])
    return name


def _name_table(pipeline: Pipeline) -> _NameTable:
    features = pipeline[-2]
    source = getattr(features, "transformers_", None)
    table = _TABLES.get(features)
    if table is None or table.source is not source:
        table = _TABLES[features] = _build_table(features, source)
    return table


def _build_table(features: Any, source: Any) -> _NameTable:
    """The named blocks of a ColumnTransformer that prefixes its names; none for any other step (then
    every name comes from its full list)."""
    slices = getattr(features, "output_indices_", None)
    if not isinstance(features, ColumnTransformer) or slices is None or not features.verbose_feature_names_out:
        return _NameTable(source, ())
    inputs = _input_names(features)
    blocks = []
    for name, transformer, columns in features.transformers_:
        part = slices.get(name)
        if part is not None and part.start < part.stop and hasattr(transformer, "get_feature_names_out"):
            names = np.asarray(transformer.get_feature_names_out(inputs[np.atleast_1d(columns)]), dtype=object)
            blocks.append((part.start, part.stop, str(name), names))
    return _NameTable(source, tuple(blocks))


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
