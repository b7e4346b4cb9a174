"""`ScoringContext.score_event`: the one pure call per event (severity, score, alerts due, next state).

No Django and no database: the state goes in, the new state comes out.
"""

from __future__ import annotations

from unittest import mock

from scoring.alerts import ANOMALY_ALERT, THRESHOLD_ALERT
from scoring.population import PopulationModel
from scoring.session import ScoringContext, ScoringEvent, ScoringState
from scoring.types import BaselineStats, Policy


def tab_switch() -> ScoringEvent:
    return ScoringEvent("tab_switch", {})


def run(context: ScoringContext, events, state: ScoringState | None = None):
    state = state or ScoringState()
    results = []
    for event in events:
        scored = context.score_event(state, event)
        results.append(scored)
        state = scored.state
    return results


def test_a_technical_event_gets_its_severity_and_is_never_scored():
    state = ScoringState(behaviour={"events": 3}, alerted_level="medium")
    scored = ScoringContext(policy=Policy(), baseline=None).score_event(
        state, ScoringEvent("disconnected", {}, technical=True)
    )
    assert scored.score is None and scored.severity == "low" and scored.alerts_due == ()
    assert scored.state is state


def test_severity_follows_the_exam_policy():
    strict = ScoringContext(policy=Policy(), baseline=None)
    lenient = ScoringContext(policy=Policy(allow_tab_switch=True), baseline=None)
    assert strict.score_event(ScoringState(), tab_switch()).severity == "medium"
    assert lenient.score_event(ScoringState(), tab_switch()).severity == "low"


BASELINE = BaselineStats(typing_speed_wpm=40, mouse_speed_pxs=400, avg_question_time_sec=60, sample_count=3)
# High sensitivity: the threshold is 0.5. 12 tab switches 0.3, 130 s away 0.135 (0.435, medium, under
# the threshold), then typing at 100 wpm against 40 (+0.18: 0.615, medium), then a still mouse (+0.105: high).
CLIMB = [
    *[tab_switch()] * 12,
    ScoringEvent("window_focus", {"blur_duration_ms": 130_000}),
    ScoringEvent("typing_sample", {"wpm": 100}),
    tab_switch(),
    ScoringEvent("mouse_sample", {"speed_pxs": 40}),
    tab_switch(),
]


def test_the_threshold_alert_fires_once_per_level_reached():
    context = ScoringContext(policy=Policy(sensitivity="high"), baseline=BASELINE)
    results = run(context, CLIMB)
    due = [(i, [(a.alert_type, a.severity) for a in r.alerts_due]) for i, r in enumerate(results) if r.alerts_due]
    assert due == [(13, [(THRESHOLD_ALERT, "medium")]), (15, [(THRESHOLD_ALERT, "high")])]
    risk = results[13].score.risk
    assert (risk.risk_score, risk.level) == (0.615, "medium")
    assert results[13].alerts_due[0].message == (
        "Risk 0.61 (medium): typing 100 wpm vs baseline 40 wpm: deviation 150% > 100%; 12 tab switches > 10; "
        "130 s away from the exam window > 120 s"
    )
    assert results[13].alerts_due[0].components == risk.as_dict()["components"]
    assert [r.state.alerted_level for r in results[12:]] == ["", "medium", "medium", "high", "high"]


def test_a_level_already_alerted_raises_nothing():
    context = ScoringContext(policy=Policy(sensitivity="high"), baseline=BASELINE)
    results = run(context, CLIMB, state=ScoringState(alerted_level="high"))
    assert [r.alerts_due for r in results] == [()] * len(CLIMB)


def test_a_lenient_exam_alerts_later():
    context = ScoringContext(policy=Policy(sensitivity="low"), baseline=BASELINE)  # threshold 0.85
    assert all(r.alerts_due == () for r in run(context, CLIMB))


class _Detector:
    """A stand-in detector whose verdict the test sets."""

    def __init__(self, value: float) -> None:
        self.value = value

    def score_one(self, vector):
        return self.value

    def explain_one(self, vector, features):
        return "typing unlike the baseline"


def test_the_anomaly_alert_fires_when_the_detector_starts_firing():
    detector = _Detector(9.0)
    context = ScoringContext(policy=Policy(), baseline=None, detector=detector, anomaly_threshold=3.0)
    first, second = run(context, [ScoringEvent("typing_sample", {"wpm": 40})] * 2)
    assert [a.alert_type for a in first.alerts_due] == [ANOMALY_ALERT]
    assert first.alerts_due[0].components == {"anomaly_score": 9.0}
    assert first.alerts_due[0].message == first.score.anomaly_explanation
    assert second.alerts_due == ()  # still firing: no new alert
    detector.value = 1.0
    calm = context.score_event(second.state, ScoringEvent("typing_sample", {"wpm": 40}))
    detector.value = 9.0
    again = context.score_event(calm.state, ScoringEvent("typing_sample", {"wpm": 40}))
    assert calm.alerts_due == () and [a.alert_type for a in again.alerts_due] == [ANOMALY_ALERT]


def test_the_population_opinion_stands_between_cadence_points():
    model = mock.Mock(spec=PopulationModel)
    model.metadata = {"version": "v1"}
    model.score_one.return_value = 0.5
    model.is_outlier.return_value = False
    context = ScoringContext(policy=Policy(), baseline=None, population=model)
    state = ScoringState()
    for _ in range(7):
        scored = context.score_event(state, tab_switch(), population_every=3)
        state = scored.state
    # Scored on the 1st, 4th and 7th scored events.
    assert model.score_one.call_count == 3
    assert state.population == scored.score.population_opinion()
    assert state.behaviour["events"] == 7
