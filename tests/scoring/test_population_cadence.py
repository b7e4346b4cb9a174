"""The population model on a cadence: `session_score(population_previous=)` and ingestion's use of it.

The forest never changes the risk, so live ingestion scores it on a session's first scored event
and every POPULATION_SCORE_EVERY-th after it, and keeps its last opinion in between.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from scoring.population import FEATURES, PopulationModel, train
from scoring.session import ScoringContext, session_score
from scoring.types import Policy

BEHAVIOUR = None  # no events yet: every signal missing, which the forest still scores


@pytest.fixture(scope="module")
def model() -> PopulationModel:
    rng = np.random.default_rng(3)
    return train(rng.normal(50, 10, size=(40, len(FEATURES))), metadata={"version": "v-test"})


def context_with(model: PopulationModel) -> ScoringContext:
    return ScoringContext(policy=Policy(), baseline=None, population=model)


def test_a_previous_opinion_of_the_same_model_stands(model):
    previous = {"score": 0.4242, "is_outlier": True, "explanation": "kept", "version": model.metadata["version"]}
    with mock.patch.object(PopulationModel, "score_one", side_effect=AssertionError("scored again")):
        scored = session_score(context=context_with(model), behaviour=BEHAVIOUR, population_previous=previous)
    assert (scored.population_score, scored.population_outlier, scored.population_explanation) == (0.4242, True, "kept")


def test_an_opinion_of_another_model_version_is_scored_again(model):
    previous = {"score": 0.4242, "is_outlier": True, "explanation": "kept", "version": "older"}
    scored = session_score(context=context_with(model), behaviour=BEHAVIOUR, population_previous=previous)
    fresh = session_score(context=context_with(model), behaviour=BEHAVIOUR)
    assert scored.population_score == fresh.population_score != 0.4242
    assert scored.population_version == model.metadata["version"]


def test_no_previous_opinion_scores_the_model(model):
    scored = session_score(context=context_with(model), behaviour=BEHAVIOUR, population_previous=None)
    assert scored.population_score is not None
    assert scored.population_explanation.endswith(f"(isolation score {scored.population_score:.2f})")


@pytest.mark.django_db
def test_ingestion_scores_the_forest_on_the_first_event_and_every_nth(model, proctor, student, settings):
    from exams.services import session_start
    from monitoring.ingest import risk, services
    from monitoring.ingest.activity import parse_activity
    from tests.monitoring.conftest import make_exam

    settings.EXAMPULSE = {**settings.EXAMPULSE, "POPULATION_SCORE_EVERY": 5}
    session = session_start(exam=make_exam(proctor), user=student)
    scored_events = []
    with (
        mock.patch.object(risk, "scoring_context", return_value=context_with(model)),
        mock.patch.object(PopulationModel, "score_one", autospec=True, side_effect=PopulationModel.score_one) as forest,
    ):
        for index in range(12):
            activity = parse_activity(
                {"exam_id": session.exam_id, "type": "tab_switch", "client_event_id": f"c{index}"}
            )
            [_outcome] = services.events_ingest([services.IngestRequest(session.pk, activity)])
            scored_events.append(forest.call_count)
    # Events 1, 6 and 11 score the forest; the others keep the opinion stored with the last score.
    assert scored_events == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]
    session.refresh_from_db()
    assert session.risk_components["population"]["version"] == "v-test"
    assert session.risk_components["population"]["score"] is not None
