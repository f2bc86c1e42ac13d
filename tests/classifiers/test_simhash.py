"""SimHash signatures are stored: the fast path must give, bit for bit, what the plain definition gives."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from classifiers.signatures import match_basis, shingles, simhash, to_signed

DATASETS = ("gov-messages-hot", "gov-messages", "gov-messages-replies", "weibo-rumours", "weibo-covid-rumours")


def reference_simhash(text: str, size: int = 3) -> int | None:
    """SimHash as defined: each shingle's 64-bit blake2b (big-endian) votes ±1 per occurrence on each bit."""
    features = shingles(text, size)
    if not features:
        return None
    votes = [0] * 64
    for feature in features:
        value = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            votes[bit] += 1 if value >> bit & 1 else -1
    return to_signed(sum(1 << bit for bit in range(64) if votes[bit] > 0))


def dataset_texts(subset: Any, per_dataset: int) -> list[str]:
    """Titles, bodies and what dedupe signs (the match basis) of real messages, read at test time."""
    texts: list[str] = []
    for name in DATASETS:
        for row in subset(name, per_dataset, seed=3):
            title, text = str(row.get("title") or ""), str(row.get("text") or "")
            texts += [title, text, match_basis(title, text, 20)]
    return texts


def test_signatures_match_the_plain_definition_on_dataset_texts(subset: Any) -> None:
    texts = dataset_texts(subset, 60)
    assert sum(1 for t in texts if len(t) > 100) > 50  # long bodies as well as short titles
    assert [simhash(t) for t in texts] == [reference_simhash(t) for t in texts]


@pytest.mark.parametrize("text", ["", "！？ ", "a", "ab", "abc", "abcd", "aaaa", "谣言", "转发微博@某人 [哈哈]",
                                  "中文和English混合123", "ａｂｃ全角"])
def test_short_and_odd_texts_match_the_plain_definition(text: str) -> None:
    """No text, one shingle shorter than the size, repeated shingles (the counts weigh), width forms."""
    assert simhash(text) == reference_simhash(text)


def test_sizes_other_than_three_match_too(subset: Any) -> None:
    texts = dataset_texts(subset, 5)
    for size in (2, 4):
        assert [simhash(t, size) for t in texts] == [reference_simhash(t, size) for t in texts]
