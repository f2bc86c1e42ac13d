"""The "why" names each feature as scikit-learn does, without holding every name."""

from __future__ import annotations

from classifiers.explain import feature_name
from classifiers.rumour import RumourModel
from classifiers.topic import TopicModel


def test_feature_names_match_scikit_learns_for_every_feature(topic_model: TopicModel,
                                                             rumour_model: RumourModel) -> None:
    """Word and character vectorisers, and the rumour model's numeric block (names built from inputs)."""
    rumour_names = [str(n) for n in rumour_model.pipeline[-2].get_feature_names_out()]
    assert any(n.startswith("numbers__") for n in rumour_names)
    for pipeline in (topic_model.pipeline, rumour_model.pipeline):
        full = [str(n) for n in pipeline[-2].get_feature_names_out()]
        assert [feature_name(pipeline, i) for i in range(len(full))] == full
