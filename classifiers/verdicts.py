"""The rumour verdict: one definition of the three-way band every stage uses (no heavy imports).

The rumour model gives a probability; the playbook's ``rumour`` band turns it into
疑似谣言 / 需核实 / 未见谣言特征. An unverified claim (网传, 据传 … see
:mod:`classifiers.signals`) is at least 需核实 whatever the model says, because the
model judges only the source kinds it learnt from.
"""

from __future__ import annotations

from typing import Final

from playbooks.schema import RumourPolicy

VERDICT_RUMOUR: Final = "疑似谣言"  # probability ≥ verify_high: treat as a suspected rumour
VERDICT_VERIFY: Final = "需核实"  # verify_low ≤ probability < verify_high: a person must check
VERDICT_CLEAR: Final = "未见谣言特征"  # probability < verify_low: no sign of a rumour
VERDICTS: Final = (VERDICT_RUMOUR, VERDICT_VERIFY, VERDICT_CLEAR)


def verdict(probability: float, policy: RumourPolicy) -> str:
    """Map a rumour probability to a verdict with the playbook's verification band."""
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"rumour probability must be within [0, 1], got {probability!r}")
    if probability >= policy.verify_high:
        return VERDICT_RUMOUR
    if probability >= policy.verify_low:
        return VERDICT_VERIFY
    return VERDICT_CLEAR


def event_verdict(probability: float | None, policy: RumourPolicy, *, unverified_claim: bool = False) -> str | None:
    """The verdict of an event: the model's band, raised to 需核实 for an unverified claim; None when unjudged."""
    judged = None if probability is None else verdict(min(max(probability, 0.0), 1.0), policy)
    if unverified_claim and judged in (None, VERDICT_CLEAR):
        return VERDICT_VERIFY
    return judged
