"""Figures for ``yuqing eval``: per-class scores, confusion matrix, early-detection curve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from classifiers.features import within


def binary_metrics(
    y: Sequence[int] | np.ndarray, proba: Sequence[float] | np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Accuracy and macro-F1 of P(positive) ≥ threshold."""
    pred = (np.asarray(proba) >= threshold).astype(int)
    return {
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro", zero_division=0)), 4),
        "n": len(y),
    }


def format_report(truth: Sequence[str], pred: Sequence[str]) -> str:
    """Plain-text table: precision, recall, F1 and support per class, macro-F1, confusion matrix."""
    labels = sorted(set(truth) | set(pred))
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    width = max(8, *(_display_width(label) for label in labels))
    lines = [f"{'class'}{' ' * (width - 5)} precision  recall      f1  support"]
    for i, label in enumerate(labels):
        pad = " " * (width - _display_width(label))
        lines.append(f"{label}{pad} {p[i]:9.4f} {r[i]:7.4f} {f[i]:7.4f} {s[i]:8d}")
    macro = f1_score(truth, pred, labels=labels, average="macro", zero_division=0)
    lines.append(f"macro-F1 {macro:.4f}   accuracy {accuracy_score(truth, pred):.4f}   n={len(truth)}")
    lines.append("")
    lines.append("confusion matrix (rows: true, columns: predicted)")
    matrix = confusion_matrix(truth, pred, labels=labels)
    lines.append("  ".join(f"[{i}]{label}" for i, label in enumerate(labels)))
    for i, row in enumerate(matrix):
        lines.append(f"[{i}] " + " ".join(f"{v:5d}" for v in row))
    return "\n".join(lines)


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def early_detection(
    model: Any, records: Sequence[Mapping[str, Any]], y: Sequence[int], hours: Iterable[float]
) -> list[tuple[float | None, float]]:
    """Accuracy when the model sees only reactions within each horizon, then with all of them."""
    out: list[tuple[float | None, float]] = []
    for h in [*hours, None]:
        proba = model.predict_proba([within(r, h) for r in records])
        out.append((h, float(accuracy_score(y, (proba >= 0.5).astype(int)))))
    return out
