"""Benchmark: documents per second for tokenise + classify, and the ratio to tokenising alone.

Run ``python -m bench.bench_classify`` (or ``python bench/bench_classify.py``).
Both figures come from the same run on the same documents, so the ratio holds
across machines even when the absolute numbers do not. Then the same texts
through each tokenizer (jieba, rjieba) alone: MB/s for ``Tokenizer.cut`` (the
segmenter's words, rjieba's re-cut jieba's way word by word) and for our whole
``tokenize`` (stop words, punctuation, emoticons; each distinct raw word judged
once), and the ratio of the two tokenizers. Not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers.api import Classifier
from classifiers.tokenizer import TOKENIZERS, Tokenizer
from playbooks.loader import load_playbook
from yuqing.settings import load_settings


def load_documents(limit: int) -> list[dict]:
    """Citizen messages (gov-messages-hot) with a few Weibo posts and their reposts mixed in."""
    root = load_settings().datasets_dir
    docs: list[dict] = []
    for name, share in (("gov-messages-hot", 0.8), ("weibo-rumours", 0.2)):
        path = root / name / "train.jsonl"
        with open(path, encoding="utf-8") as handle:
            for i, line in enumerate(handle):
                if i >= int(limit * share):
                    break
                docs.append(json.loads(line))
    return docs


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Best wall time of ``repeat`` runs (the least disturbed one)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)

    playbook = load_playbook()
    docs = load_documents(args.docs)
    tokenizer = Tokenizer.from_playbook(playbook)
    classifier = Classifier.load(playbook)
    texts = [f"{d.get('title', '')}\n{d.get('text', '')}" for d in docs]
    tokenizer.tokenize("预热")  # load the dictionary outside the timing
    classifier.classify({"title": "预热", "text": "预热"})

    def tokenise_only() -> None:
        for t in texts:
            tokenizer.tokenize(t)
        for d in docs:
            for r in d.get("reposts") or []:
                tokenizer.tokenize(r.get("text") or "")

    def classify_all() -> None:
        for start in range(0, len(docs), args.batch):
            classifier.classify_many(docs[start : start + args.batch])

    t_tok = timed(tokenise_only, args.repeat)
    t_cls = timed(classify_all, args.repeat)
    n = len(docs)
    print(f"documents: {n} (batch {args.batch}, best of {args.repeat})")
    print(f"tokenise only:         {n / t_tok:8.1f} docs/s")
    print(f"tokenise + classify:   {n / t_cls:8.1f} docs/s")
    print(f"classify / tokenise time ratio: {t_cls / t_tok:.2f}x")
    compare_tokenizers(playbook, texts, args.repeat)


def compare_tokenizers(playbook: Any, texts: list[str], repeat: int) -> None:
    """MB/s of each tokenizer on the same texts, the segmenter's cut alone and our whole tokenize."""
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    seconds: dict[str, tuple[float, float]] = {}
    for engine in TOKENIZERS:
        tokenizer = Tokenizer(playbook.user_words(), playbook.stopwords, engine=engine)
        tokenizer.tokenize("预热")  # build the segmenter outside the timing
        cut = timed(lambda: [tokenizer.cut(t) for t in texts], repeat)  # noqa: B023 - timed runs it now
        whole = timed(lambda: [tokenizer.tokenize(t) for t in texts], repeat)  # noqa: B023
        seconds[engine] = (cut, whole)
        print(f"{engine:7} Tokenizer.cut {megabytes / cut:6.2f} MB/s, tokenize {megabytes / whole:6.2f} MB/s "
              f"({megabytes:.2f} MB, best of {repeat})")
    (jieba_cut, jieba_whole), (rjieba_cut, rjieba_whole) = seconds["jieba"], seconds["rjieba"]
    print(f"RATIO jieba/rjieba time: cut {jieba_cut / rjieba_cut:.1f}x, tokenize {jieba_whole / rjieba_whole:.1f}x")


if __name__ == "__main__":
    main()
