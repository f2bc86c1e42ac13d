"""Chinese word segmentation with our own segmenter instance: jieba or rjieba.

Both segmenters run jieba's algorithm on jieba's dictionary; rjieba is the Rust
port (jieba-rs) and cuts about twenty times faster. The playbook's
``tokenizer`` chooses one; a trained model keeps the one it was trained with
(it is part of the pickled :class:`Tokenizer`, and the manifest says it too).

jieba keeps a module-global tokenizer and logs at DEBUG when it loads its
dictionary; sharing that global would let any import change our user
dictionary. We build private instances (``jieba.Tokenizer`` or
``rjieba.Jieba``, each with its own dictionary) whose user words come from the
playbook (department, place and category keywords stay whole), and drop stop
words and punctuation so every model sees the same tokens.

rjieba's HMM step splits non-Chinese runs with a pattern whose ``.`` is not
escaped, so ``2-3`` or ``2011.10.15`` come out whole where jieba cuts
``2 - 3`` and ``2011.10 . 15``; we re-cut such pieces with jieba's pattern.
rjieba also keeps the dictionary's total frequency differently when user words
are added; a padding entry makes the totals equal (see ``_rjieba_engine``).
What remains different are ties between equally likely cuts of repeated
characters (哈哈 哈哈哈 or 哈哈哈 哈哈), in 2 of 13,536 dataset texts;
``tests/classifiers/test_tokenizer.py`` measures it.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from classifiers.errors import TokenizerUnavailableError
from playbooks.schema import Playbook, TokenizerName

TOKENIZERS: tuple[TokenizerName, ...] = ("jieba", "rjieba")
DEFAULT_TOKENIZER: TokenizerName = Playbook.model_fields["tokenizer"].default
LEGACY_TOKENIZER: TokenizerName = "jieba"  # what a model saved before the choice existed was cut with

_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_SPACES = re.compile(r"\s+")
# Weibo emoticons such as [泪] or [蜡烛] carry sentiment; keep them as one token.
_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]")
# jieba's own split of a non-Chinese run (jieba.finalseg.re_skip); rjieba's leaves the dot unescaped.
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_USER_WORD_FREQ = 20000
_TOTAL_PADDING = "\ue000"  # see _rjieba_engine
_NORMAL_MEMO_SIZE = 100_000  # distinct raw words remembered per tokenizer (about 10 MB at most)


# Tokens of the lines segmented inside the current :meth:`Tokenizer.batch`, per tokenizer configuration:
# the topic model, the rumour model and the event clusterer each hold a Tokenizer, and within one batch
# all of them read the same memo, so each line of text is cut once. A context variable, so batches
# running in different threads never see each other's memo.
_BATCH_MEMO: contextvars.ContextVar[dict[tuple[object, ...], dict[str, list[str]]] | None] = (
    contextvars.ContextVar("tokenizer_batch_memo", default=None)
)


class _Engine:
    """A built segmenter: ``cut(text)`` gives raw words. Shared by every Tokenizer with the same
    segmenter and user words (the dictionaries are tens of MB each), and never changed once built."""

    def __init__(self, cut: Callable[[str], list[str]], has_word: Callable[[str], bool]) -> None:
        self.cut = cut
        self.has_word = has_word


_ENGINES_LOCK = threading.Lock()
_ENGINES: weakref.WeakValueDictionary[tuple[str, tuple[str, ...]], _Engine] = weakref.WeakValueDictionary()
_JIEBA_BASE: tuple[dict[str, int], int] | None = None


def _jieba() -> Any:
    import jieba

    # jieba's own logger prints "Building prefix dict..." at DEBUG on first use.
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba


def _jieba_engine(user_words: Sequence[str]) -> _Engine:
    """A new jieba instance with its own copy of the main dictionary.

    Loading the dictionary takes about a second; it is read once per process
    and copied (tens of milliseconds), so user words of one instance never
    reach another or jieba's global tokenizer.
    """
    global _JIEBA_BASE
    jieba = _jieba()
    if _JIEBA_BASE is None:
        loader = jieba.Tokenizer()
        loader.initialize()
        _JIEBA_BASE = (loader.FREQ, loader.total)
    engine = jieba.Tokenizer()
    engine.FREQ = dict(_JIEBA_BASE[0])
    engine.total = _JIEBA_BASE[1]
    engine.initialized = True
    for word in user_words:
        engine.add_word(word, freq=_USER_WORD_FREQ)
    return _Engine(lambda text: list(engine.cut(text, HMM=True)), lambda word: bool(engine.FREQ.get(word)))


def _rjieba_engine(user_words: Sequence[str]) -> _Engine:
    """A new rjieba instance: each ``rjieba.Jieba()`` loads its own copy of the main dictionary, and
    ``add_word`` changes that instance only.

    jieba's ``add_word`` adds the new frequency to the dictionary's total even when the word was
    already listed; rjieba first takes the old frequency off. The total scales every word's
    probability, so after ~200 playbook words the two would disagree on close calls (拆迁办 whole or
    拆迁 + 办). A padding entry that no text can reach (a private-use character, which rjieba never
    looks up) carries the difference, so both totals are the same.
    """
    try:
        import rjieba
    except ImportError:
        raise TokenizerUnavailableError(
            "the rjieba tokenizer is not installed (pip install rjieba), or choose tokenizer: jieba"
        ) from None
    engine = rjieba.Jieba()
    for word in user_words:
        engine.add_word(word, _USER_WORD_FREQ, None)
    listed = _main_dictionary_freqs(set(user_words))
    if listed:
        engine.add_word(_TOTAL_PADDING, sum(listed.values()), None)
    return _Engine(lambda text: engine.cut(text, True), engine.has_word)


def _main_dictionary_freqs(words: set[str]) -> dict[str, int]:
    """Frequencies of *words* in the main dictionary (jieba's dict.txt, which rjieba embeds too);
    read from jieba's package without importing it."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerUnavailableError("rjieba needs jieba's dictionary file: pip install jieba")
    found: dict[str, int] = {}
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, rest = line.partition(" ")
            if word in words:
                found[word] = int(rest.split(maxsplit=1)[0])
    return found


def _engine_for(name: str, user_words: tuple[str, ...]) -> _Engine:
    """The shared engine of this segmenter and user dictionary, built on first use."""
    key = (name, user_words)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _jieba_engine(user_words) if name == "jieba" else _rjieba_engine(user_words)
            _ENGINES[key] = engine
    return engine


def require_tokenizer(name: object) -> TokenizerName:
    """*name* if it is a segmenter we have and it is installed (ValueError or
    :class:`TokenizerUnavailableError` otherwise)."""
    known = check_tokenizer(name)
    if importlib.util.find_spec(known) is None:
        raise TokenizerUnavailableError(f"the {known} tokenizer is not installed (pip install {known})")
    return known


def check_tokenizer(name: object) -> TokenizerName:
    """*name* if it is a segmenter we have, else ValueError naming the choices."""
    for known in TOKENIZERS:
        if name == known:
            return known
    raise ValueError(f"unknown tokenizer {name!r} (choose {' or '.join(TOKENIZERS)})")


class Tokenizer:
    """Segments text into tokens, keeping playbook words whole and dropping stop words.

    *engine* is the segmenter (``jieba`` or ``rjieba``; the default is the playbook's default).
    Safe to share between threads once built. Picklable: the segmenter is rebuilt on load, and
    a pickle from before the choice existed was cut by jieba, so it loads as jieba.
    """

    def __init__(
        self,
        user_words: Iterable[str] = (),
        stopwords: Iterable[str] = (),
        *,
        keep_emoticons: bool = True,
        cache_size: int = 0,
        engine: TokenizerName | None = None,
    ) -> None:
        self.user_words = tuple(sorted({w.strip() for w in user_words if w and w.strip()}))
        self.stopwords = frozenset(w.strip() for w in stopwords if w and w.strip())
        self.keep_emoticons = keep_emoticons
        self.cache_size = cache_size
        self.engine: TokenizerName = check_tokenizer(engine or DEFAULT_TOKENIZER)
        self._segmenter: _Engine | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, list[str]] = {}
        self._normal: dict[str, tuple[str, ...]] = {}
        self._config = (self.engine, self.user_words, self.stopwords, self.keep_emoticons)

    @classmethod
    def from_playbook(cls, playbook: Playbook) -> Tokenizer:
        """The tokenizer every stage should use: segmenter, user words and stop words from policy."""
        return cls(playbook.user_words(), playbook.stopwords, engine=playbook.tokenizer)

    def _engine(self) -> _Engine:
        if self._segmenter is None:
            with self._lock:
                if self._segmenter is None:
                    self._segmenter = _engine_for(self.engine, self.user_words)
        return self._segmenter

    def cut(self, text: str) -> list[str]:
        """The segmenter's raw words (punctuation and stop words included), jieba's way."""
        engine = self._engine()
        words = engine.cut(text)
        if self.engine == "rjieba":
            return [part for word in words for part in _as_jieba_cuts(word, engine)]
        return words

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text`` without punctuation, whitespace or stop words."""
        if not text:
            return []
        memo = _BATCH_MEMO.get()
        if memo is not None:
            return self._from_memo(memo.setdefault(self._config, {}), text)
        if self.cache_size:
            cached = self._cache.get(text)
            if cached is not None:
                return list(cached)
        tokens = self._tokenize(text)
        if self.cache_size:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[text] = tokens
            return list(tokens)
        return tokens

    def _from_memo(self, memo: dict[str, list[str]], text: str) -> list[str]:
        """Tokens line by line through the batch memo.

        Whitespace always ends a segmenter block and an emoticon never spans a line, so the tokens of
        ``"a\nb"`` are the tokens of ``a`` followed by those of ``b``: the title and the text cut for
        the topic model serve the rumour model's "title\ntext" and the clusterer's too.
        """
        tokens: list[str] = []
        for line in text.split("\n"):
            cut = memo.get(line)
            if cut is None:
                cut = memo[line] = self._tokenize(line) if line else []
            tokens.extend(cut)
        return tokens

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Within the block, every Tokenizer with this configuration cuts each line once and shares it.

        Nested blocks share the outer memo; it is dropped when the outermost block ends. Tokenizers
        of another segmenter or dictionary keep their own entries, so tokens never cross between them.
        """
        if _BATCH_MEMO.get() is not None:
            yield
            return
        token = _BATCH_MEMO.set({})
        try:
            yield
        finally:
            _BATCH_MEMO.reset(token)

    def _tokenize(self, text: str) -> list[str]:
        text = _SPACES.sub(" ", text)
        tokens: list[str] = []
        pieces = _EMOTICON.split(text) if self.keep_emoticons else [text]
        emoticons = _EMOTICON.findall(text) if self.keep_emoticons else []
        for i, piece in enumerate(pieces):
            tokens.extend(self._words(piece))
            if i < len(emoticons):
                tokens.append(emoticons[i])
        return tokens

    __call__ = tokenize

    def _words(self, text: str) -> list[str]:
        """Kept tokens of the raw words. Each distinct raw word is judged once and remembered: judging
        word by word in Python would cost more than rjieba's cut, so the loop stays in C."""
        words = self._engine().cut(text)
        normal = self._normal
        if len(normal) >= _NORMAL_MEMO_SIZE:
            normal = self._normal = {}  # a new dict: another thread may still be reading the old one
        for word in set(words).difference(normal):
            normal[word] = self._judge(word)
        return list(chain.from_iterable(map(normal.__getitem__, words)))

    def _judge(self, word: str) -> tuple[str, ...]:
        """What a raw word contributes: itself lowercased (re-cut jieba's way for rjieba), less
        whitespace, punctuation and stop words."""
        parts = _as_jieba_cuts(word, self._engine()) if self.engine == "rjieba" else (word,)
        kept = []
        for part in parts:
            part = part.strip().lower()
            if part and _WORDLIKE.search(part) and part not in self.stopwords:
                kept.append(part)
        return tuple(kept)

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokenise a batch (the same as calling :meth:`tokenize` on each)."""
        return [self.tokenize(t) for t in texts]

    def clear_cache(self) -> None:
        """Forget memoised results (training enables the cache; saved models do not carry it)."""
        self._cache.clear()

    def __deepcopy__(self, memo: dict[int, object]) -> Tokenizer:
        # Immutable configuration: sklearn's clone() may share it, and with it the cache,
        # so cross-validation folds tokenise each text once.
        return self

    def __getstate__(self) -> dict[str, object]:
        return {
            "user_words": self.user_words,
            "stopwords": sorted(self.stopwords),
            "keep_emoticons": self.keep_emoticons,
            "cache_size": 0,
            "engine": self.engine,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(  # type: ignore[misc]
            state["user_words"],
            state["stopwords"],
            keep_emoticons=bool(state["keep_emoticons"]),
            cache_size=int(state.get("cache_size", 0)),  # type: ignore[call-overload]
            engine=check_tokenizer(state.get("engine", LEGACY_TOKENIZER)),
        )

    def __repr__(self) -> str:
        return f"Tokenizer({self.engine}, {len(self.user_words)} user words, {len(self.stopwords)} stop words)"


def _as_jieba_cuts(word: str, engine: _Engine) -> tuple[str, ...]:
    """An rjieba word as jieba cuts it: a non-Chinese run that is not a dictionary word (``2-3``,
    ``2011.10.15``) is split by jieba's pattern (``2 - 3``, ``2011.10 . 15``)."""
    if len(word) < 2 or word.isalnum() or _HAN.search(word) or word.isspace() or engine.has_word(word):
        return (word,)
    return tuple(part for part in _JIEBA_SKIP.split(word) if part)
