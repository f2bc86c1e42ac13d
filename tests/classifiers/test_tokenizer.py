from __future__ import annotations

import copy
import pickle
from typing import Any

import jieba
import pytest

from classifiers.tokenizer import Tokenizer
from playbooks.schema import Playbook


def test_playbook_words_stay_whole(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("九台区棚户区拆迁补偿款不到位，请省建设厅核查")
    assert "九台区" in tokens
    assert "省建设厅" in tokens
    assert "补偿款" in tokens


def test_stop_words_and_punctuation_are_dropped(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("我们的学校，是不是很好？！……")
    assert "的" not in tokens and "我们" not in tokens
    assert not any(t in {"，", "？", "！", "……"} for t in tokens)
    assert "学校" in tokens


def test_emoticons_are_kept_whole(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("太惨了[蜡烛][泪]")[-2:] == ["[蜡烛]", "[泪]"]


def test_user_words_do_not_leak_into_jieba_global() -> None:
    word = "琥珀潮汐测试词"
    Tokenizer([word]).tokenize(f"今天{word}来了")
    assert word not in list(jieba.cut(f"今天{word}来了"))


def test_user_dictionary_changes_segmentation() -> None:
    text = "长白山管委会回复了"
    assert "长白山管委会" not in Tokenizer().tokenize(text)
    assert "长白山管委会" in Tokenizer(["长白山管委会"]).tokenize(text)


def test_cache_returns_same_tokens_and_is_not_pickled(playbook: Playbook) -> None:
    cached = Tokenizer(playbook.user_words(), playbook.stopwords, cache_size=10)
    first = cached.tokenize("公交线路调整")
    first.append("mutated")
    assert cached.tokenize("公交线路调整") == Tokenizer.from_playbook(playbook).tokenize("公交线路调整")
    restored = pickle.loads(pickle.dumps(cached))
    assert restored.cache_size == 0 and restored.user_words == cached.user_words
    assert copy.deepcopy(cached) is cached


def test_empty_text(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("") == []
    assert tokenizer.tokenize("   ，。") == []


def test_rjieba_is_not_equivalent_on_dataset_texts(
    tokenizer: Tokenizer, playbook: Playbook, subset: Any
) -> None:
    """Why rjieba is not offered as a backend: with the same user words it still cuts
    numbers, dates and mixed text differently from jieba on our data (about 1 text in 10)."""
    rjieba = pytest.importorskip("rjieba")
    engine = rjieba.Jieba()
    for word in playbook.user_words():
        engine.add_word(word, 20000, None)
    ours = tokenizer._engine()
    texts = [r["text"] for r in subset("gov-messages", 210)]
    differing = [t for t in texts if list(ours.cut(t)) != list(engine.cut(t, True))]
    assert len(differing) > len(texts) // 50


def test_a_batch_cuts_each_line_once_with_the_same_tokens(tokenizer: Tokenizer, playbook: Playbook,
                                                         subset: Any) -> None:
    """Inside ``batch()`` a text is cut line by line through a shared memo: the tokens must equal a
    whole-text cut (title and text joined, multi-line bodies, Weibo posts with emoticons), and a second
    tokenizer of the same configuration (another model's) reads the memo instead of jieba."""
    records = subset("gov-messages", 120) + subset("weibo-rumours", 120)
    texts = [f"{r.get('title') or ''}\n{r['text']}" for r in records] + [r["text"] for r in records]
    texts += ["标题\n\n第一段[泪]\n  第二段 ", "\n", "末尾\n"]
    whole = [tokenizer.tokenize(t) for t in texts]
    other = Tokenizer.from_playbook(playbook)
    with tokenizer.batch():
        assert [tokenizer.tokenize(t) for t in texts] == whole
        other._tokenize = None  # type: ignore[method-assign]  # every line is already in the memo
        assert [other.tokenize(t) for t in texts] == whole
    del other._tokenize
    assert other.tokenize(texts[0]) == whole[0]  # the memo ends with the batch
