"""One call for other stages: load the models once, classify items.

clf = Classifier.load(playbook)                  # bundled default models
result = clf.classify({"title": ..., "text": ..., "reposts": [...]})
result.category, result.category_scores, result.rumour_probability, result.rumour_verdict, result.why
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.modelio import Manifest, default_model_dir, load_model
from playbooks.schema import Playbook, TokenizerName

if TYPE_CHECKING:  # the models import scikit-learn; commands that do not classify should not wait for it
    from classifiers.rumour import RumourModel
    from classifiers.topic import TopicModel

TOPIC_KIND = "topic"
RUMOUR_KIND = "rumour"


@dataclass(frozen=True)
class Classification:
    """Everything the classifiers say about one item."""

    category: str
    category_scores: dict[str, float]
    rumour_probability: float
    rumour_verdict: str
    why: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_topic_model(
    directory: Path | None = None,
    *,
    models_dir: Path | None = None,
    playbook: Playbook | None = None,
    tokenizer: TokenizerName | None = None,
) -> tuple[TopicModel, Manifest]:
    """A topic model directory (default: the bundled one).

    With ``playbook``, a model trained on playbook categories also applies the
    playbook's relabel rules to its predictions (as its labels were made). The
    model cuts text with the tokenizer it was trained with; with ``tokenizer``,
    one trained with another is refused (:class:`TokenizerMismatchError`).
    """
    from classifiers.topic import TopicModel

    pipeline, manifest = load_model(
        directory or default_model_dir(TOPIC_KIND, models_dir), kind=TOPIC_KIND, tokenizer=tokenizer
    )
    native = bool(manifest.params.get("native", False))
    rules = playbook.training if playbook is not None and not native else None
    return TopicModel(pipeline, rules=rules), manifest


def load_rumour_model(
    playbook: Playbook,
    directory: Path | None = None,
    *,
    models_dir: Path | None = None,
    tokenizer: TokenizerName | None = None,
) -> tuple[RumourModel, Manifest]:
    """A rumour model directory (default: the bundled one) with the playbook's verdict band
    (``tokenizer`` as in :func:`load_topic_model`)."""
    from classifiers.rumour import RumourModel

    pipeline, manifest = load_model(
        directory or default_model_dir(RUMOUR_KIND, models_dir), kind=RUMOUR_KIND, tokenizer=tokenizer
    )
    return RumourModel(pipeline, playbook.rumour), manifest


class Classifier:
    """Topic and rumour models together, loaded once and reused.

    :meth:`load` refuses models trained with another tokenizer than the playbook's
    (:class:`~classifiers.errors.TokenizerMismatchError`): the clusterer and the pipeline's shared
    tokens follow the playbook, so the models must cut text the same way.
    """

    def __init__(self, topic: TopicModel, rumour: RumourModel) -> None:
        self.topic = topic
        self.rumour = rumour

    @classmethod
    def load(
        cls,
        playbook: Playbook,
        *,
        topic_dir: Path | None = None,
        rumour_dir: Path | None = None,
        models_dir: Path | None = None,
    ) -> Classifier:
        topic, _ = load_topic_model(topic_dir, models_dir=models_dir, playbook=playbook, tokenizer=playbook.tokenizer)
        rumour, _ = load_rumour_model(playbook, rumour_dir, models_dir=models_dir, tokenizer=playbook.tokenizer)
        return cls(topic, rumour)

    def classify_many(self, records: Sequence[Mapping[str, Any]]) -> list[Classification]:
        """Classify a batch (faster than one by one: the vectorisers run once)."""
        if not records:
            return []
        topics = self.topic.classify(records)
        rumours = self.rumour.classify(records)
        out = []
        for t, r in zip(topics, rumours, strict=True):
            why = list(t.why) + [w for w in r.why if w not in t.why]
            out.append(Classification(t.category, t.scores, r.probability, r.verdict, why))
        return out

    def classify(self, record: Mapping[str, Any]) -> Classification:
        return self.classify_many([record])[0]
