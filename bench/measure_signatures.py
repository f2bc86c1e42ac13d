"""Measure the SimHash near-duplicate threshold on the shared datasets.

Prints, per corpus (long gov messages, short Weibo posts), the Hamming distance
of true near-duplicates (dataset re-posts and perturbed copies) against the
nearest *different* message, and the recall/false-positive rate per threshold.
Run: .venv/bin/python -m bench.measure_signatures [N]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np

from classifiers.signatures import BITS, canonical, jaccard, simhash
from yuqing.settings import load_settings


def _load(path: Path, limit: int) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return rows[:limit]


def perturb(text: str, rng: random.Random) -> dict[str, str]:
    chars = list(text)
    dropped = [c for c in chars if rng.random() > 0.05]
    swapped = "".join(c if rng.random() > 0.03 else rng.choice("的了是在有和就") for c in chars)
    return {
        "wrapped": "【转载】" + text + "（来源：某某网 责任编辑：张三）",
        "drop5%": "".join(dropped),
        "swap3%": swapped,
        "punct": text.replace("，", ",").replace("。", ". ").replace("！", "!"),
        "cut80%": text[: int(len(text) * 0.8)],
    }


def nearest_other(sigs: np.ndarray, canon: list[str]) -> np.ndarray:
    out = np.empty(len(sigs), dtype=np.int64)
    for i, sig in enumerate(sigs):
        d = np.bitwise_count(sigs ^ sig).astype(np.int64)
        same = np.array([c == canon[i] for c in canon])
        d[same] = BITS + 1
        out[i] = d.min()
    return out


def study(name: str, texts: list[str], rng: random.Random) -> None:
    texts = [t for t in texts if len(canonical(t)) >= 20]
    canon = [canonical(t) for t in texts]
    sigs = np.array([simhash(t) & ((1 << 64) - 1) for t in texts], dtype=np.uint64)
    near = nearest_other(sigs, canon)
    kinds: dict[str, list[int]] = {}
    for text, sig in zip(texts[:400], sigs[:400], strict=False):
        for kind, copy in perturb(text, rng).items():
            other = simhash(copy)
            if other is not None:
                kinds.setdefault(kind, []).append(int(np.bitwise_count(np.uint64(other & ((1 << 64) - 1)) ^ sig)))
    lengths = [len(c) for c in canon]
    print(f"\n== {name}: {len(texts)} texts, median {int(np.median(lengths))} chars")
    print("threshold  " + "  ".join(f"{k:>8}" for k in kinds) + "   nearest-different ≤t (false positives)")
    for t in (3, 4, 6, 8, 10, 12, 14, 16):
        recall = "  ".join(f"{np.mean(np.array(v) <= t):8.2%}" for v in kinds.values())
        print(f"{t:>9}  {recall}   {np.mean(near <= t):8.2%}")
    combined(texts, sigs, canon, rng)


def combined(texts: list[str], sigs: np.ndarray, canon: list[str], rng: random.Random,
             max_bits: int = 14, min_jaccard: float = 0.6) -> None:
    """The rule the pipeline uses: SimHash candidate within *max_bits*, confirmed by bigram Jaccard."""
    mask = (1 << 64) - 1
    hits = {k: 0 for k in perturb("x", rng)}
    total = 0
    for text, sig in zip(texts[:400], sigs[:400], strict=False):
        total += 1
        for kind, copy in perturb(text, rng).items():
            other = simhash(copy)
            if other is not None and int(np.bitwise_count(np.uint64(other & mask) ^ sig)) <= max_bits \
                    and jaccard(text, copy) >= min_jaccard:
                hits[kind] += 1
    print(f"rule: ≤{max_bits} bits AND bigram Jaccard ≥{min_jaccard}: recall " +
          ", ".join(f"{k} {v / total:.1%}" for k, v in hits.items()))
    passing = 0
    pairs = 0
    for _ in range(20000):
        i, j = rng.randrange(len(texts)), rng.randrange(len(texts))
        if i == j or canon[i] == canon[j]:
            continue
        pairs += 1
        d = int(np.bitwise_count(sigs[i] ^ sigs[j]))
        passing += d <= max_bits and jaccard(texts[i], texts[j]) >= min_jaccard
    print(f"random different pairs matched: {passing} of {pairs}")
    near_pairs = []
    for i in range(len(texts)):
        d = np.bitwise_count(sigs ^ sigs[i])
        for j in np.nonzero(d <= max_bits)[0]:
            if j > i and canon[i] != canon[j]:
                near_pairs.append(jaccard(texts[i], texts[int(j)]))
    matched = sum(1 for score in near_pairs if score >= min_jaccard)
    print(f"different-text pairs within {max_bits} bits: {len(near_pairs)}, confirmed by Jaccard: {matched} "
          "(inspected: re-posts of one complaint/rumour with edits)")


def duplicates_in_hot(rows: list[dict]) -> None:
    by_body: dict[str, list[dict]] = {}
    for row in rows:
        by_body.setdefault(canonical(row["text"]), []).append(row)
    dists = []
    for group in by_body.values():
        if len(group) > 1:
            base = simhash(group[0]["title"] + "\n" + group[0]["text"])
            for other in group[1:]:
                d = simhash(other["title"] + "\n" + other["text"])
                dists.append(bin((base ^ d) & ((1 << 64) - 1)).count("1"))
    print(f"\n== gov-messages-hot re-posted bodies (title+text signed): {len(dists)} pairs")
    print("distance distribution:", dict(sorted({d: dists.count(d) for d in dists}.items())))


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    root = load_settings().datasets_dir
    rng = random.Random(7)
    hot = _load(root / "gov-messages-hot" / "train.jsonl", 10_000)
    duplicates_in_hot(hot)
    study("gov-messages-hot (long messages)", [r["title"] + "\n" + r["text"] for r in hot[:limit]], rng)
    weibo = _load(root / "weibo-rumours" / "train.jsonl", limit)
    study("weibo-rumours (short posts)", [r["text"] for r in weibo], rng)


if __name__ == "__main__":
    main()
