"""Near-duplicate signatures: 64-bit SimHash over character shingles.

Text in, numbers out. Character shingles (not words) keep it independent of
the tokenizer and robust for short Weibo posts, where a word-level hash has
too few features. The signature fits one signed BIGINT column, so the store
keeps one number per item and comparisons are a XOR and a popcount.
See monitor/README.md for the threshold measured on the datasets.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

BITS = 64
_MASK = (1 << BITS) - 1
# Keep CJK, letters and digits; punctuation, spaces and emoji do not make a text different.
_NOISE = re.compile(r"[^\w\u4e00-\u9fff]+", re.UNICODE)
# Weibo boilerplate that reprints add or drop: mentions, hashtags, links, emoticons.
_WEIBO_NOISE = re.compile(r"(@[\w\-]{1,30})|(#[^#]{1,40}#)|(https?://\S+)|(\[[\u4e00-\u9fffA-Za-z]{1,6}\])")


def canonical(text: str) -> str:
    """The text as signatures see it: NFKC, lower-case, no punctuation, links or mentions."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _WEIBO_NOISE.sub(" ", text)
    return _NOISE.sub("", text)


def match_basis(title: str | None, text: str | None, min_chars: int) -> str:
    """The part of an item that its reprints keep: the body, since reprinting sites rewrite
    headlines; title and body together only when the body alone is too short to judge."""
    body = (text or "").strip()
    if len(canonical(body)) >= min_chars:
        return body
    return "\n".join(part for part in (title, body) if part)


def shingles(text: str, size: int = 3) -> list[str]:
    """Overlapping character n-grams of the canonical text (the whole text if shorter)."""
    body = canonical(text)
    if len(body) <= size:
        return [body] if body else []
    return [body[i : i + size] for i in range(len(body) - size + 1)]


def _digest(feature: str) -> bytes:
    """The feature's 64-bit blake2b, as 8 big-endian bytes (stable across runs and machines)."""
    return hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()


def simhash(text: str, size: int = 3) -> int | None:
    """Signed 64-bit SimHash of *text*; None when there is no text to sign.

    Bit b is set when the shingles whose hash has bit b set outnumber (counting repeats) those
    whose hash has it clear. The 64 sums are one product of the counts with the hashes' unpacked
    bits, not a loop over the bits.
    """
    features = shingles(text, size)
    if not features:
        return None
    counts = Counter(features)
    digests = np.frombuffer(b"".join(map(_digest, counts)), dtype=np.uint8).reshape(-1, 8)
    bits = np.unpackbits(digests[:, ::-1], axis=1, bitorder="little")  # big-endian bytes: column b is bit b
    freq = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    weights = 2 * (freq @ bits) - freq.sum()  # Σ count where the bit is set − Σ count where it is clear
    value = int.from_bytes(np.packbits(weights > 0, bitorder="little").tobytes(), "little")
    return to_signed(value)


def to_signed(value: int) -> int:
    value &= _MASK
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def distance(a: int, b: int) -> int:
    """Hamming distance between two signatures (0 = same content)."""
    return ((a ^ b) & _MASK).bit_count()


def similarity(a: int, b: int) -> float:
    """1 − distance/64: a reading of the signature distance as a share."""
    return 1.0 - distance(a, b) / BITS


class SignatureIndex:
    """In-memory nearest-signature search (vectorised popcount over all signatures).

    Keys, signatures and stamps live in three NumPy arrays (24 bytes an entry, not the ~150 of Python
    ints, a list slot and a dict entry each) that grow by doubling, so an add after a search does not
    rebuild anything. A stamp (seconds, e.g. when the item was stored) lets a search skip entries
    older than ``since`` and :meth:`forget_before` drop them; an entry added without one is never
    skipped or dropped.
    """

    def __init__(self, entries: Iterable[tuple[int, int]] = ()) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._sigs = np.empty(0, dtype=np.uint64)
        self._stamps = np.empty(0, dtype=np.float64)
        self._size = 0
        for key, signature in entries:
            self.add(key, signature)

    def __len__(self) -> int:
        return self._size

    def add(self, key: int, signature: int, stamp: float | None = None) -> None:
        if self._size == len(self._keys):
            self._grow(max(64, 2 * self._size))
        i = self._size
        self._keys[i] = key
        self._sigs[i] = signature & _MASK
        self._stamps[i] = np.nan if stamp is None else stamp
        self._size += 1

    def _grow(self, capacity: int) -> None:
        for name in ("_keys", "_sigs", "_stamps"):
            old = getattr(self, name)
            new = np.empty(capacity, dtype=old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    def within(self, signature: int, max_distance: int, since: float | None = None) -> list[tuple[int, int]]:
        """(key, distance) of every signature within *max_distance* bits, closest first (ties by key);
        with *since*, only entries stamped at or after it (or not stamped)."""
        if not self._size:
            return []
        dists = np.bitwise_count(self._sigs[: self._size] ^ np.uint64(signature & _MASK))
        near = dists <= max_distance
        if since is not None:
            stamps = self._stamps[: self._size]
            near &= (stamps >= since) | np.isnan(stamps)
        hits = np.nonzero(near)[0]
        found = [(int(self._keys[i]), int(dists[i])) for i in hits]
        return sorted(found, key=lambda pair: (pair[1], pair[0]))

    def forget_before(self, stamp: float) -> int:
        """Drop the entries stamped before *stamp* (unstamped ones stay); returns how many went."""
        stamps = self._stamps[: self._size]
        keep = ~(stamps < stamp)  # NaN compares False: an unstamped entry is kept
        gone = self._size - int(keep.sum())
        if gone:
            kept = int(keep.sum())
            for name in ("_keys", "_sigs", "_stamps"):
                array = getattr(self, name)
                array[:kept] = array[: self._size][keep]
            self._size = kept
        return gone


def pairwise_distances(signatures: Sequence[int]) -> np.ndarray:
    """Distances between every pair (upper triangle, flattened): for threshold studies."""
    array = np.array([s & _MASK for s in signatures], dtype=np.uint64)
    rows, cols = np.triu_indices(len(array), k=1)
    counts: np.ndarray = np.bitwise_count(array[rows] ^ array[cols])
    return counts


def shingle_set(text: str, size: int = 2) -> frozenset[str]:
    """Distinct character n-grams of the canonical text (bigrams by default)."""
    return frozenset(shingles(text, size))


def jaccard(a: str, b: str, size: int = 2) -> float:
    """Jaccard overlap of the two texts' character n-gram sets: the check after a SimHash hit.

    SimHash alone over-matches short texts and under-matches edited ones;
    bigram Jaccard is exact, and cheap on the few candidates SimHash finds.
    """
    left, right = shingle_set(a, size), shingle_set(b, size)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)
