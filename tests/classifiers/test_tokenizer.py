from __future__ import annotations

import copy
import pickle
from collections import Counter
from typing import Any

import jieba
import pytest
import rjieba

from classifiers.tokenizer import LEGACY_TOKENIZER, TOKENIZERS, Tokenizer
from playbooks.schema import Playbook, TokenizerName


@pytest.fixture(scope="module", params=TOKENIZERS)
def each(request: pytest.FixtureRequest, playbook: Playbook) -> Tokenizer:
    """The playbook's tokenizer with each segmenter: every behaviour below holds for both."""
    engine: TokenizerName = request.param
    return Tokenizer(playbook.user_words(), playbook.stopwords, engine=engine)


def test_the_playbook_chooses_the_segmenter(playbook: Playbook) -> None:
    assert Tokenizer.from_playbook(playbook).engine == playbook.tokenizer
    other = "jieba" if playbook.tokenizer == "rjieba" else "rjieba"
    assert Tokenizer.from_playbook(playbook.model_copy(update={"tokenizer": other})).engine == other
    with pytest.raises(ValueError, match="unknown tokenizer 'pkuseg'"):
        Tokenizer(engine="pkuseg")  # type: ignore[arg-type]


def test_playbook_words_stay_whole(each: Tokenizer) -> None:
    tokens = each.tokenize("九台区棚户区拆迁补偿款不到位，请省建设厅核查")
    assert "九台区" in tokens
    assert "省建设厅" in tokens
    assert "补偿款" in tokens


def test_stop_words_and_punctuation_are_dropped(each: Tokenizer) -> None:
    tokens = each.tokenize("我们的学校，是不是很好？！……")
    assert "的" not in tokens and "我们" not in tokens
    assert not any(t in {"，", "？", "！", "……"} for t in tokens)
    assert "学校" in tokens


def test_emoticons_are_kept_whole(each: Tokenizer) -> None:
    assert each.tokenize("太惨了[蜡烛][泪]")[-2:] == ["[蜡烛]", "[泪]"]


@pytest.mark.parametrize("engine", TOKENIZERS)
def test_user_words_do_not_leak(engine: TokenizerName) -> None:
    """One instance's user word reaches neither another instance nor the library's global segmenter."""
    word = "琥珀潮汐测试词"
    text = f"今天{word}来了"
    assert word in Tokenizer([word], engine=engine).tokenize(text)
    assert word not in Tokenizer(engine=engine).tokenize(text)
    assert word not in list(jieba.cut(text)) and word not in rjieba.cut(text)


@pytest.mark.parametrize("engine", TOKENIZERS)
def test_user_dictionary_changes_segmentation(engine: TokenizerName) -> None:
    text = "长白山管委会回复了"
    assert "长白山管委会" not in Tokenizer(engine=engine).tokenize(text)
    assert "长白山管委会" in Tokenizer(["长白山管委会"], engine=engine).tokenize(text)


def test_cache_returns_same_tokens_and_is_not_pickled(each: Tokenizer, playbook: Playbook) -> None:
    cached = Tokenizer(playbook.user_words(), playbook.stopwords, cache_size=10, engine=each.engine)
    first = cached.tokenize("公交线路调整")
    first.append("mutated")
    assert cached.tokenize("公交线路调整") == each.tokenize("公交线路调整")
    restored = pickle.loads(pickle.dumps(cached))
    assert restored.cache_size == 0 and restored.user_words == cached.user_words
    assert copy.deepcopy(cached) is cached


def test_pickle_keeps_the_segmenter(each: Tokenizer, playbook: Playbook, subset: Any) -> None:
    texts = [r["text"] for r in subset("gov-messages", 30)]
    restored = pickle.loads(pickle.dumps(each))
    assert restored.engine == each.engine
    assert [restored.tokenize(t) for t in texts] == [each.tokenize(t) for t in texts]


def test_a_pickle_from_before_the_choice_loads_as_jieba() -> None:
    """Models saved before rjieba was offered carry no segmenter name; they were cut by jieba."""
    old = Tokenizer.__new__(Tokenizer)
    old.__setstate__({"user_words": ("长白山管委会",), "stopwords": ["的"], "keep_emoticons": True, "cache_size": 0})
    assert old.engine == LEGACY_TOKENIZER == "jieba"
    assert old.tokenize("长白山管委会的回复") == ["长白山管委会", "回复"]


def test_empty_text(each: Tokenizer) -> None:
    assert each.tokenize("") == []
    assert each.tokenize("   ，。") == []


def test_rjieba_cuts_non_chinese_runs_as_jieba_does() -> None:
    """rjieba's own split keeps 2-3, 2011.10.15 and CNG-WG6101N whole; we cut them jieba's way."""
    texts = ["号称2-3万人", "先 2011.10.15 再说", "出现了CNG-WG6101N公交车", "工资30%和C++", "约3.5万元"]
    jieba_way = Tokenizer(engine="jieba")
    rust_way = Tokenizer(engine="rjieba")
    assert "2-3" in rjieba.cut(texts[0])  # what the re-cut is for
    for text in texts:
        assert rust_way.cut(text) == jieba_way.cut(text)
        assert rust_way.tokenize(text) == jieba_way.tokenize(text)


def _dataset_texts(subset: Any) -> list[str]:
    records = subset("gov-messages", 700) + subset("weibo-rumours", 400) + subset("weibo-covid-rumours", 300)
    return [r["text"] for r in records] + [r["title"] for r in records if r.get("title")]


def test_rjieba_and_jieba_agree_on_dataset_texts(playbook: Playbook, subset: Any) -> None:
    """The same playbook user words and stop words through both segmenters: every playbook word is kept
    whole the same number of times in every text, and whole token lists differ only where two cuts of
    repeated characters are equally likely (哈哈 哈哈哈 / 哈哈哈 哈哈; 2 of 13,536 texts over all the train
    splits). Before the re-cut of non-Chinese runs and the dictionary-total padding, about 1 text in 10
    differed, and 拆迁办 / 城管办 split differently once the playbook words were added."""
    jieba_way = Tokenizer(playbook.user_words(), playbook.stopwords, engine="jieba")
    rust_way = Tokenizer(playbook.user_words(), playbook.stopwords, engine="rjieba")
    user_words = {w.lower() for w in playbook.user_words()}
    texts = _dataset_texts(subset)
    differing, playbook_words, playbook_mismatch = 0, 0, []
    for text in texts:
        ours, theirs = jieba_way.tokenize(text), rust_way.tokenize(text)
        differing += ours != theirs
        counted = Counter(t for t in ours if t in user_words)
        playbook_words += sum(counted.values())
        if counted != Counter(t for t in theirs if t in user_words):
            playbook_mismatch.append(text[:40])
    assert len(texts) > 1400 and playbook_words > 4000
    assert playbook_mismatch == []
    assert differing <= len(texts) // 500


def test_a_batch_cuts_each_line_once_with_the_same_tokens(each: Tokenizer, playbook: Playbook,
                                                         subset: Any) -> None:
    """Inside ``batch()`` a text is cut line by line through a shared memo: the tokens must equal a
    whole-text cut (title and text joined, multi-line bodies, Weibo posts with emoticons), and a second
    tokenizer of the same configuration (another model's) reads the memo instead of segmenting."""
    records = subset("gov-messages", 120) + subset("weibo-rumours", 120)
    texts = [f"{r.get('title') or ''}\n{r['text']}" for r in records] + [r["text"] for r in records]
    texts += ["标题\n\n第一段[泪]\n  第二段 ", "\n", "末尾\n"]
    whole = [each.tokenize(t) for t in texts]
    other = Tokenizer(playbook.user_words(), playbook.stopwords, engine=each.engine)
    with each.batch():
        assert [each.tokenize(t) for t in texts] == whole
        other._tokenize = None  # type: ignore[method-assign]  # every line is already in the memo
        assert [other.tokenize(t) for t in texts] == whole
    del other._tokenize
    assert other.tokenize(texts[0]) == whole[0]  # the memo ends with the batch


def test_a_batch_never_hands_one_segmenters_tokens_to_the_other(playbook: Playbook) -> None:
    """A model trained with jieba must not read rjieba's cuts of the same line (or the reverse)."""
    jieba_way = Tokenizer(playbook.user_words(), playbook.stopwords, engine="jieba")
    rust_way = Tokenizer(playbook.user_words(), playbook.stopwords, engine="rjieba")
    text = "九台区棚户区拆迁补偿款不到位"
    with jieba_way.batch():
        expected = jieba_way.tokenize(text)
        rust_way._tokenize = lambda line: ["rjieba's own"]  # type: ignore[method-assign]
        assert rust_way.tokenize(text) == ["rjieba's own"]
        assert jieba_way.tokenize(text) == expected
