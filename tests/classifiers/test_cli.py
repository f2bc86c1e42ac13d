"""The train / classify / eval commands through click's CliRunner, on small dataset subsets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yuqing.cli import main


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, runner: CliRunner, subset: Any) -> dict[str, Path]:
    """Topic (playbook categories) and rumour models trained by the CLI on small subsets."""
    root = tmp_path_factory.mktemp("cli")
    topic_data = write_jsonl(root / "topic.jsonl", subset("gov-messages", 490, seed=3))
    ced = write_jsonl(root / "ced.jsonl", subset("weibo-rumours", 70, seed=3))
    covid = write_jsonl(root / "covid.jsonl", subset("weibo-covid-rumours", 50, seed=3))
    result = runner.invoke(
        main, ["train", "topic", "--data", str(topic_data), "--out", str(root / "topic"), "--folds", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "cv macro-F1" in result.output
    result = runner.invoke(
        main,
        [
            "train",
            "rumour",
            "--data",
            str(ced),
            "--data",
            str(covid),
            "--out",
            str(root / "rumour"),
            "--folds",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cross[ced→covid]" in result.output
    return {
        "root": root,
        "topic": root / "topic",
        "rumour": root / "rumour",
        "topic_data": topic_data,
        "ced": ced,
    }


def test_train_writes_manifest_with_cv_and_hash(trained: dict[str, Path]) -> None:
    manifest = json.loads((trained["topic"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "topic" and manifest["params"]["native"] is False
    assert manifest["tokenizer"] == "rjieba"  # the playbook's
    assert 0 < manifest["metrics"]["macro_f1"] <= 1
    assert (
        manifest["training_data"][0]["file"] == "topic.jsonl"
        and len(manifest["training_data"][0]["sha256"]) == 64
    )
    rumour = json.loads((trained["rumour"] / "manifest.json").read_text(encoding="utf-8"))
    assert {"cv_pooled", "cross[ced→covid]", "cross[covid→ced]"} <= set(rumour["metrics"])


def test_classify_one_line_per_input_in_order(
    trained: dict[str, Path], runner: CliRunner, playbook: Any
) -> None:
    lines = [
        json.dumps(
            {
                "id": "a",
                "title": "小区供暖不热",
                "text": "暖气温度不达标",
                "reposts": [{"text": "真的吗", "time": "2020-01-01 10:00:00"}],
            },
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps({"id": "c", "text": 5}),
        json.dumps({"id": "d", "title": "学校收费", "text": "补课费太高"}, ensure_ascii=False),
    ]
    data = trained["root"] / "in.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = [
        "classify",
        str(data),
        "--topic-model",
        str(trained["topic"]),
        "--rumour-model",
        str(trained["rumour"]),
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["a", None, "c", "d"]
    assert out[1]["line"] == 2 and "not valid JSON" in out[1]["error"]
    assert "in.jsonl:3: field 'text' must be a string" in result.stderr
    for o in (out[0], out[3]):
        assert o["category"] in playbook.categories
        assert set(o) == {"id", "category", "category_scores", "rumour_probability", "rumour_verdict", "why"}
        assert o["rumour_verdict"] in ("疑似谣言", "需核实", "未见谣言特征")


def test_classify_with_bundled_models(runner: CliRunner, tmp_path: Path) -> None:
    data = write_jsonl(
        tmp_path / "x.jsonl", [{"id": 1, "title": "医院看病难", "text": "挂号排队三小时，医生态度差"}]
    )
    result = runner.invoke(main, ["classify", str(data)])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["category"] == "医疗"


def test_eval_topic_prints_report(trained: dict[str, Path], runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["eval", "topic", "--data", str(trained["topic_data"]), "--model", str(trained["topic"])]
    )
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "confusion matrix" in result.output and "教育" in result.output


def test_eval_rumour_prints_early_detection(trained: dict[str, Path], runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["eval", "rumour", "--data", str(trained["ced"]), "--model", str(trained["rumour"])]
    )
    assert result.exit_code == 0, result.output
    for token in ("macro-F1", "early detection", "1h", "6h", "24h", "all"):
        assert token in result.output


def test_train_rumour_bad_label_names_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    data = write_jsonl(
        tmp_path / "bad.jsonl", [{"text": "a", "label": "rumour"}, {"text": "b", "label": "perhaps"}]
    )
    result = runner.invoke(main, ["train", "rumour", "--data", str(data), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "bad.jsonl:2: unknown rumour label 'perhaps'" in result.output


def test_missing_model_directory_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "x.jsonl", [{"id": 1, "text": "x"}])
    result = runner.invoke(main, ["classify", str(data), "--topic-model", str(tmp_path)])
    assert result.exit_code != 0 and "not a model directory" in result.output


def test_train_topic_unknown_label_names_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    data = write_jsonl(
        tmp_path / "t.jsonl", [{"text": "a", "label": "教育文体"}, {"text": "b", "label": "外星"}]
    )
    result = runner.invoke(main, ["train", "topic", "--data", str(data), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "t.jsonl:2: label '外星' is not in the playbook's training.label_map" in result.output


def test_a_model_trained_with_another_tokenizer_is_refused_by_name(
    runner: CliRunner, tmp_path: Path, subset: Any
) -> None:
    """`train --tokenizer jieba` under the rjieba playbook: the model says so, and classify refuses it."""
    data = write_jsonl(tmp_path / "t.jsonl", subset("gov-messages", 140, seed=4))
    out = tmp_path / "jieba-topic"
    result = runner.invoke(main, ["train", "topic", "--data", str(data), "--native", "--tokenizer", "jieba",
                                  "--out", str(out), "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "(native labels, jieba)" in result.output
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["tokenizer"] == "jieba"
    result = runner.invoke(main, ["classify", str(data), "--topic-model", str(out)])
    assert result.exit_code != 0
    assert "trained with the jieba tokenizer, but the playbook chooses rjieba" in result.output
    result = runner.invoke(main, ["train", "topic", "--tokenizer", "pkuseg", "--out", str(out)])
    assert result.exit_code != 0 and "'pkuseg' is not one of 'jieba', 'rjieba'" in result.output
