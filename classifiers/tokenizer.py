"""Chinese word segmentation with our own jieba instance.

jieba keeps a module-global tokenizer and logs at DEBUG when it loads its
dictionary; sharing that global would let any import change our user
dictionary. We build a private ``jieba.Tokenizer`` whose user words come from
the playbook (department, place and category keywords stay whole), and drop
stop words and punctuation so every model sees the same tokens.

rjieba (a Rust port) is not used: it cannot take a per-instance user
dictionary, so place and department names split differently from ours
(``tests/classifiers/test_tokenizer.py`` shows the divergence on dataset texts).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence

import jieba

from playbooks.schema import Playbook

# jieba's own logger prints "Building prefix dict..." at DEBUG on first use.
jieba.setLogLevel(logging.WARNING)
logging.getLogger("jieba").setLevel(logging.WARNING)

_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_SPACES = re.compile(r"\s+")
# Weibo emoticons such as [泪] or [蜡烛] carry sentiment; keep them as one token.
_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]")
_USER_WORD_FREQ = 20000


# Tokens of the lines segmented inside the current :meth:`Tokenizer.batch`, per tokenizer configuration:
# the topic model, the rumour model and the event clusterer each hold a Tokenizer, and within one batch
# all of them read the same memo, so each line of text is cut by jieba once. A context variable, so
# batches running in different threads never see each other's memo.
_BATCH_MEMO: contextvars.ContextVar[dict[tuple[object, ...], dict[str, list[str]]] | None] = (
    contextvars.ContextVar("tokenizer_batch_memo", default=None)
)

_BASE_LOCK = threading.Lock()
_BASE: tuple[dict[str, int], int] | None = None


def _fresh_engine() -> jieba.Tokenizer:
    """A new jieba instance with its own copy of the main dictionary.

    Loading the dictionary takes about a second; it is read once per process
    and copied (tens of milliseconds), so user words of one instance never
    reach another or jieba's global tokenizer.
    """
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            loader = jieba.Tokenizer()
            loader.initialize()
            _BASE = (loader.FREQ, loader.total)
    engine = jieba.Tokenizer()
    engine.FREQ = dict(_BASE[0])
    engine.total = _BASE[1]
    engine.initialized = True
    return engine


class Tokenizer:
    """Segments text into tokens, keeping playbook words whole and dropping stop words.

    Safe to share between threads once built (jieba's own lock guards
    initialisation). Picklable: the jieba instance is rebuilt on load.
    """

    def __init__(
        self,
        user_words: Iterable[str] = (),
        stopwords: Iterable[str] = (),
        *,
        keep_emoticons: bool = True,
        cache_size: int = 0,
    ) -> None:
        self.user_words = tuple(sorted({w.strip() for w in user_words if w and w.strip()}))
        self.stopwords = frozenset(w.strip() for w in stopwords if w and w.strip())
        self.keep_emoticons = keep_emoticons
        self.cache_size = cache_size
        self._jieba: jieba.Tokenizer | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, list[str]] = {}
        self._config = (self.user_words, self.stopwords, self.keep_emoticons)

    @classmethod
    def from_playbook(cls, playbook: Playbook) -> Tokenizer:
        """The tokenizer every stage should use: user words and stop words from policy."""
        return cls(playbook.user_words(), playbook.stopwords)

    def _engine(self) -> jieba.Tokenizer:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    engine = _fresh_engine()
                    for word in self.user_words:
                        engine.add_word(word, freq=_USER_WORD_FREQ)
                    self._jieba = engine
        return self._jieba

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

        Whitespace always ends a jieba block and an emoticon never spans a line, so the tokens of
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

        Nested blocks share the outer memo; it is dropped when the outermost block ends.
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
        out = []
        for word in self._engine().cut(text, HMM=True):
            word = word.strip().lower()
            if word and _WORDLIKE.search(word) and word not in self.stopwords:
                out.append(word)
        return out

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
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(  # type: ignore[misc]
            state["user_words"],
            state["stopwords"],
            keep_emoticons=bool(state["keep_emoticons"]),
            cache_size=int(state.get("cache_size", 0)),  # type: ignore[call-overload]
        )

    def __repr__(self) -> str:
        return f"Tokenizer({len(self.user_words)} user words, {len(self.stopwords)} stop words)"
