from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from classifiers.errors import DataError, NotFittedError
from classifiers.tokenizer import Tokenizer
from classifiers.topic import (
    TopicModel,
    TopicResult,
    build_topic_pipeline,
    cross_validate,
    playbook_labels,
    rule_category,
)
from playbooks.schema import Playbook


def test_learns_native_labels_on_held_out_part(
    topic_model: TopicModel, topic_records: list[dict[str, Any]], subset: Any
) -> None:

    seen = {r["id"] for r in topic_records}
    unseen = [r for r in subset("gov-messages", 700, seed=5) if r["id"] not in seen][:150]
    predicted = [r.category for r in topic_model.classify(unseen)]
    accuracy = np.mean([p == r["label"] for p, r in zip(predicted, unseen, strict=True)])
    assert accuracy > 0.7  # 7 classes: chance is about 0.2


def test_scores_are_probabilities_over_all_classes(topic_model: TopicModel) -> None:
    [result] = topic_model.classify(
        [{"title": "学校乱收补课费", "text": "孩子所在小学老师要求周末补课，每人收费两千元。"}]
    )
    assert set(result.scores) == set(topic_model.classes)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert result.category == max(result.scores, key=result.scores.__getitem__)
    assert result.category == "教育文体"
    assert result.why and all(isinstance(w, str) and len(w) >= 2 for w in result.why)


def test_missing_fields_are_empty_text(topic_model: TopicModel) -> None:
    [result] = topic_model.classify([{"text": "医院挂号难，看病排队三个小时"}])
    assert result.category in topic_model.classes


def test_unfitted_model_says_so(tokenizer: Tokenizer) -> None:
    with pytest.raises(NotFittedError):
        _ = TopicModel(build_topic_pipeline(tokenizer)).classes


def test_playbook_labels_map_and_relabel(playbook: Playbook) -> None:
    records = [
        {"title": "棚户区改造", "text": "我家拆迁补偿款至今未发放"},
        {"title": "小区路灯坏了", "text": "晚上很黑"},
        {"title": "景区门票", "text": "景区票价上涨太多"},
        {"title": "景区厕所", "text": "厕所太脏"},
    ]
    labels = ["城乡建设", "城乡建设", "商贸旅游", "商贸旅游"]
    assert playbook_labels(records, labels, playbook.training) == ["拆迁", "市政", "价格", "其他"]


def test_relabel_only_from_listed_labels(playbook: Playbook) -> None:
    # 拆迁 keywords in an education message do not move it: the rule lists only 城乡建设.
    records = [{"title": "学校拆迁", "text": "学校因拆迁要搬走"}]
    assert playbook_labels(records, ["教育文体"], playbook.training) == ["教育"]


def test_unknown_native_label_names_the_line(playbook: Playbook) -> None:
    with pytest.raises(DataError, match=r"^line 2: label '外星人'"):
        playbook_labels([{"text": "a"}, {"text": "b"}], ["教育文体", "外星人"], playbook.training)


def test_cross_validate_reports_macro_f1(tokenizer: Tokenizer, topic_records: list[dict[str, Any]]) -> None:
    records = topic_records[:210]
    labels = [r["label"] for r in records]
    metrics = cross_validate(
        build_topic_pipeline(tokenizer, calibration_folds=2, max_features=3000), records, labels, folds=3
    )
    assert 0.3 < metrics["macro_f1"] <= 1.0
    assert set(metrics["per_class"]) == set(labels)


def test_rule_category_follows_label_rules(playbook: Playbook) -> None:
    record = {"title": "强拆", "text": "开发商强拆房屋，补偿款未到位"}
    assert rule_category(record, "市政", playbook.training) == ("拆迁", ["强拆", "补偿款"])
    # 拆迁 is carved only out of 城乡建设 (→ 市政): other predictions stay.
    assert rule_category(record, "教育", playbook.training) == ("教育", [])
    assert rule_category({"text": "景区票价太高"}, "其他", playbook.training)[0] == "价格"


def test_model_with_rules_overrides_and_keeps_top_score(topic_model: TopicModel, playbook: Playbook) -> None:
    pipeline = topic_model.pipeline
    record = {"title": "强拆", "text": "开发商强拆房屋，补偿款未到位"}
    [plain] = TopicModel(pipeline).classify([record])
    ruled = TopicModel(pipeline, rules=playbook.training)._with_rules(
        record, TopicResult("市政", {"市政": 0.7, "拆迁": 0.2, "其他": 0.1}, ["房屋"])
    )
    assert plain.category in topic_model.classes
    assert ruled.category == "拆迁"
    assert ruled.scores == {"市政": 0.2, "拆迁": 0.7, "其他": 0.1}
    assert ruled.why[:2] == ["强拆", "补偿款"] and "房屋" in ruled.why
