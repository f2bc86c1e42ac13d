from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifiers.api import Classifier
from classifiers.errors import ModelFileError, TokenizerMismatchError
from classifiers.modelio import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    TRUSTED_TYPES,
    default_model_dir,
    load_model,
    read_manifest,
    save_model,
    sha256_file,
)
from classifiers.rumour import RumourModel
from classifiers.tokenizer import Tokenizer
from classifiers.topic import TopicModel
from playbooks.schema import Playbook


def test_round_trip_predicts_the_same(
    tmp_path: Path, topic_model: TopicModel, topic_records: list[dict[str, Any]]
) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    saved = save_model(
        topic_model.pipeline, tmp_path / "m", kind="topic", data_files=[data], metrics={"macro_f1": 0.5}
    )
    pipeline, manifest = load_model(tmp_path / "m", kind="topic")
    assert manifest == saved
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.training_data == [{"file": "train.jsonl", "sha256": sha256_file(data), "records": 2}]
    assert manifest.metrics == {"macro_f1": 0.5}
    sample = topic_records[:20]
    assert TopicModel(pipeline).classify(sample) == topic_model.classify(sample)


def test_trusted_types_cover_our_pipelines(
    tmp_path: Path, topic_model: TopicModel, rumour_model: RumourModel
) -> None:
    needed: set[str] = set()
    for name, model in (("t", topic_model.pipeline), ("r", rumour_model.pipeline)):
        sio.dump(model, tmp_path / name)
        needed |= set(sio.get_untrusted_types(file=tmp_path / name))
    assert needed == set(TRUSTED_TYPES)


def test_refuses_foreign_type(tmp_path: Path) -> None:
    evil = Pipeline([("f", FunctionTransformer(os.system))])
    target = tmp_path / "evil"
    target.mkdir()
    sio.dump(evil, target / MODEL_FILE)
    manifest = {
        "kind": "topic",
        "format_version": FORMAT_VERSION,
        "model_sha256": sha256_file(target / MODEL_FILE),
    }
    (target / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelFileError, match="untrusted types: .*system"):
        load_model(target, kind="topic")


def test_refuses_saving_foreign_type(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="untrusted"):
        save_model(Pipeline([("f", FunctionTransformer(os.system))]), tmp_path / "x", kind="topic")


def test_refuses_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not a model directory"):
        load_model(tmp_path, kind="topic")


def test_refuses_other_kind_version_and_tampering(tmp_path: Path, topic_model: TopicModel) -> None:
    save_model(topic_model.pipeline, tmp_path, kind="topic")
    with pytest.raises(ModelFileError, match="expected 'rumour'"):
        load_model(tmp_path, kind="rumour")
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text(encoding="utf-8"))
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "format_version": 99}), encoding="utf-8")
    with pytest.raises(ModelFileError, match="format version 99"):
        load_model(tmp_path, kind="topic")
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with open(tmp_path / MODEL_FILE, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(tmp_path, kind="topic")


def test_bundled_models_load(trained_annotator: Any, playbook: Playbook) -> None:
    """The bundled models as the run's shared annotator loaded them (with the bundled playbook, so they cut
    text the same way: Classifier.load refuses models of another tokenizer)."""
    classifier = trained_annotator.classifier
    assert classifier.rumour.policy == playbook.rumour
    assert set(classifier.topic.classes) == set(playbook.categories)
    topic_manifest = read_manifest(default_model_dir("topic"), kind="topic")
    rumour_manifest = read_manifest(default_model_dir("rumour"), kind="rumour")
    assert topic_manifest.tokenizer == rumour_manifest.tokenizer == playbook.tokenizer
    for directory in ("topic", "rumour"):
        size = (
            (Path(__file__).resolve().parents[2] / "classifiers" / "models" / directory / MODEL_FILE)
            .stat()
            .st_size
        )
        assert size < 5_000_000


def _other(name: str) -> str:
    return "jieba" if name == "rjieba" else "rjieba"


def test_the_manifest_records_the_tokenizer_and_another_is_refused(
    tmp_path: Path, topic_model: TopicModel, playbook: Playbook
) -> None:
    saved = save_model(topic_model.pipeline, tmp_path, kind="topic")
    assert saved.tokenizer == playbook.tokenizer and playbook.tokenizer in saved.library_versions
    _, manifest = load_model(tmp_path, kind="topic", tokenizer=playbook.tokenizer)
    assert manifest.tokenizer == playbook.tokenizer
    other = _other(playbook.tokenizer)
    with pytest.raises(TokenizerMismatchError, match=f"trained with the {playbook.tokenizer} tokenizer, but the "
                       f"playbook chooses {other}; retrain it \\(yuqing train topic"):
        load_model(tmp_path, kind="topic", tokenizer=other)


def test_a_manifest_that_names_another_tokenizer_than_its_file_is_refused(
    tmp_path: Path, topic_model: TopicModel, playbook: Playbook
) -> None:
    save_model(topic_model.pipeline, tmp_path, kind="topic")
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text(encoding="utf-8"))
    other = _other(playbook.tokenizer)
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "tokenizer": other}), encoding="utf-8")
    with pytest.raises(ModelFileError, match=f"cuts text with {playbook.tokenizer} but its manifest says {other}"):
        load_model(tmp_path, kind="topic")


def test_a_model_saved_before_the_choice_is_a_jieba_model(tmp_path: Path) -> None:
    """Manifests written before rjieba was offered have no tokenizer field: they were trained with jieba."""
    texts = ["公交线路调整", "学校收费问题", "公交车晚点", "学校食堂"] * 3
    pipeline = Pipeline([("words", TfidfVectorizer(analyzer=Tokenizer(engine="jieba"))),
                         ("clf", LogisticRegression())]).fit(texts, [0, 1, 0, 1] * 3)
    save_model(pipeline, tmp_path, kind="topic")
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text(encoding="utf-8"))
    del manifest["tokenizer"]
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    loaded, read = load_model(tmp_path, kind="topic", tokenizer="jieba")
    assert read.tokenizer == "jieba" and list(loaded.predict(["公交车"])) == [0]
    with pytest.raises(TokenizerMismatchError, match="trained with the jieba tokenizer"):
        load_model(tmp_path, kind="topic", tokenizer="rjieba")


def test_a_model_holding_two_tokenizers_is_not_saved(tmp_path: Path) -> None:
    jieba_words = TfidfVectorizer(analyzer=Tokenizer(engine="jieba"))
    rjieba_words = TfidfVectorizer(analyzer=Tokenizer(engine="rjieba"))
    pipeline = Pipeline([("inner", Pipeline([("a", jieba_words)])), ("b", rjieba_words)])
    with pytest.raises(ModelFileError, match="several tokenizers \\(jieba, rjieba\\)"):
        save_model(pipeline, tmp_path, kind="topic")


def test_the_classifier_refuses_models_of_another_tokenizer_than_the_playbooks(
    tmp_path: Path, topic_model: TopicModel, rumour_model: RumourModel, playbook: Playbook
) -> None:
    save_model(topic_model.pipeline, tmp_path / "topic", kind="topic", params={"native": True})
    save_model(rumour_model.pipeline, tmp_path / "rumour", kind="rumour")
    assert Classifier.load(playbook, models_dir=tmp_path).classify({"title": "公交", "text": "公交线路调整"})
    other = playbook.model_copy(update={"tokenizer": _other(playbook.tokenizer)})
    with pytest.raises(TokenizerMismatchError, match="topic model was trained with"):
        Classifier.load(other, models_dir=tmp_path)
